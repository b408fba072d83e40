/**
 * `POST /internal/purge` (cross-team contract): the origin, through its service binding, clears
 * this location's cached heads and namespace settings after a change. Authenticated by the shared
 * `Fleetconf-Purge-Secret`, compared in constant time; not meant to be reachable from the public
 * (in production the origin uses the zone purge API by Cache-Tag instead, docs/operations.md).
 */
import { type Context, Hono } from "hono";
import {
  annotate,
  checkJsonDocument,
  FleetconfError,
  isValidSegment,
  parseKey,
  timingSafeEqualStrings,
} from "../../core";
import type { EdgeHonoEnv } from "../app-env";
import { ALL_PURGE_TIERS, type PurgeTier } from "../cache/tiered-store";

export const PURGE_SECRET_HEADER = "Fleetconf-Purge-Secret";
export const MAX_PURGE_ITEMS = 1000;
const MAX_PURGE_BODY_BYTES = 256 * 1024;

export interface PurgeRequest {
  keys: string[];
  namespaces: string[];
  /** Which tiers to clear (default both); `["cache"]` is exactly what a zone purge by tag reaches. */
  tiers: readonly PurgeTier[];
}

export function purgeRoutes(): Hono<EdgeHonoEnv> {
  const routes = new Hono<EdgeHonoEnv>();
  routes.post("/internal/purge", async (c) => {
    const { purgeSecret, store } = c.get("services");
    const given = c.req.header(PURGE_SECRET_HEADER);
    // An unset secret must not turn into "an empty header is enough".
    if (purgeSecret === "" || given === undefined || !timingSafeEqualStrings(given, purgeSecret)) {
      throw new FleetconfError("unauthorized", `A valid ${PURGE_SECRET_HEADER} header is required.`);
    }
    const request = parsePurgeRequest(await readBody(c));
    await store.purge(request.keys, request.namespaces, request.tiers);
    annotate(c, {
      purgedKeys: request.keys.length,
      purgedNamespaces: request.namespaces.length,
      tiers: request.tiers.join(","),
    });
    return c.json({ purged: { keys: request.keys.length, namespaces: request.namespaces.length } });
  });
  routes.all("/internal/purge", () => {
    throw new FleetconfError("method_not_allowed", "Purges are POSTed.", { headers: { Allow: "POST" } });
  });
  return routes;
}

/**
 * The body as strict JSON text (UTF-8, no duplicate members: core/json.ts), read at most
 * MAX_PURGE_BODY_BYTES into memory whether or not a Content-Length was sent.
 */
async function readBody(c: Context<EdgeHonoEnv>): Promise<string> {
  const declared = Number(c.req.header("Content-Length") ?? "0");
  if (declared > MAX_PURGE_BODY_BYTES) throw tooLarge();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = c.req.raw.body?.getReader();
  for (;;) {
    const next = reader ? await reader.read() : { done: true as const, value: undefined };
    if (next.done) break;
    total += next.value.byteLength;
    if (total > MAX_PURGE_BODY_BYTES) {
      await reader?.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(next.value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  const checked = checkJsonDocument(bytes);
  if (!checked.ok) throw invalid(`The body must be one strict JSON document: ${checked.reason}.`);
  return checked.text;
}

function tooLarge(): FleetconfError {
  return new FleetconfError("payload_too_large", `A purge body is at most ${MAX_PURGE_BODY_BYTES} bytes.`);
}

/**
 * `{"keys": [...], "namespaces": [...], "tiers": ["memory", "cache"]}`, each optional; entries
 * deduplicated. `tiers` lets a model of production purge only the Cache API, as a zone purge by
 * tag does (it never reaches isolate memory); an empty or unknown tier is refused.
 */
export function parsePurgeRequest(text: string): PurgeRequest {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw invalid("The body must be JSON.");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw invalid("The body must be an object.");
  // An unknown member (a typo such as "key") must not turn into a purge of nothing that succeeds.
  if (Object.keys(body).some((name) => name !== "keys" && name !== "namespaces" && name !== "tiers")) {
    throw invalid('The body may only hold "keys", "namespaces" and "tiers".');
  }
  const {
    keys = [],
    namespaces = [],
    tiers = ALL_PURGE_TIERS,
  } = body as { keys?: unknown; namespaces?: unknown; tiers?: unknown };
  const tierList = listOf(tiers, "tiers", isPurgeTier) as PurgeTier[];
  if (tierList.length === 0) throw invalid('tiers must name at least one of "memory" and "cache".');
  return {
    keys: listOf(keys, "keys", (key) => parseKey(key).ok),
    namespaces: listOf(namespaces, "namespaces", isValidSegment),
    tiers: tierList,
  };
}

function listOf(value: unknown, field: string, valid: (item: string) => boolean): string[] {
  if (!Array.isArray(value)) throw invalid(`${field} must be an array of strings.`);
  if (value.length > MAX_PURGE_ITEMS) throw invalid(`At most ${MAX_PURGE_ITEMS} ${field} per purge.`);
  for (const item of value) {
    if (typeof item !== "string" || !valid(item)) throw invalid(`${field} holds an invalid entry.`);
  }
  return [...new Set(value as string[])];
}

function isPurgeTier(value: string): value is PurgeTier {
  return value === "memory" || value === "cache";
}

function invalid(detail: string): FleetconfError {
  return new FleetconfError("invalid_request", detail);
}
