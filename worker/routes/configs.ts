/**
 * `GET|HEAD /v1/configs/{key}[?version=N]` (DESIGN §3): the exact published bytes with their
 * prebuilt identity headers, Cache-Control from the namespace, Cache-Status (RFC 9211) naming the
 * deepest tier used, and conditional requests answered with 304 (RFC 9110 §13.1.2, §13.1.3).
 * HEAD is GET without the body (Hono dispatches HEAD to the GET handler and drops the body).
 */
import { type Context, Hono } from "hono";
import {
  annotate,
  type CacheTier,
  cacheStatus,
  FleetconfError,
  ifNoneMatchHits,
  notModifiedSince,
} from "../../core";
import type { EdgeHonoEnv } from "../app-env";
import { authorizeRead } from "../auth/read-auth";
import { upstreamReasonOf, upstreamUnavailable } from "../cache/kv-reader";
import type { HeaderList, PreparedSnapshot } from "../cache/prepared";
import type { SnapshotLookup } from "../cache/tiered-store";
import { parseConfigTarget } from "../http/config-target";
import { isKnownVersion, type Selection, selectVersion } from "../select-version";

const TIER_DEPTH: Record<CacheTier, number> = { memory: 0, cache: 1, kv: 2 };
const VARY_PUBLIC = "Config-Client-Id";
const VARY_PRIVATE = "Authorization, Config-Client-Id";

export function configRoutes(): Hono<EdgeHonoEnv> {
  const routes = new Hono<EdgeHonoEnv>();
  routes.get("/v1/configs/*", serveConfig);
  routes.all("/v1/configs/*", () => {
    throw new FleetconfError("method_not_allowed", "Configs are read with GET or HEAD at the edge.", {
      headers: { Allow: "GET, HEAD" },
    });
  });
  return routes;
}

/**
 * One handler, not a chain of middlewares: the hot path (everything fresh in isolate memory) runs
 * without awaiting anything; each tier is awaited only when memory cannot answer.
 */
async function serveConfig(c: Context<EdgeHonoEnv>): Promise<Response> {
  const target = parseConfigTarget(c);
  c.set("target", target);
  const { store, now } = c.get("services");
  const { key, namespace } = target.key;
  const ctx = c.executionCtx;

  // The namespace's settings decide who may read and the Cache-Control the answer carries.
  const settings = store.memorySettings(namespace) ?? (await store.settings(namespace, ctx));
  c.set("namespaceSettings", settings);
  if (settings.entry.settings.visibility !== "public") await authorizeRead(c, namespace);

  const head =
    store.memoryHead(key, settings.entry.settings) ??
    (await store.head(key, namespace, settings.entry.settings, ctx));
  // Cache-Status describes the config served (its head and bytes); the namespace settings only
  // shape Cache-Control, and a failure reading them shows up in the log line.
  let tier = head.tier;
  const { stale, upstreamError } = head;
  const status = () => cacheStatus(tier, { stale, ttl: head.ttlMs / 1000, error: upstreamError });

  const record = head.entry.head;
  if (record === null || record.deleted) {
    annotate(c, { key, tier, outcome: record === null ? "absent" : "deleted" });
    throw new FleetconfError("not_found", `No config is published at ${key}.`, {
      headers: { "Cache-Status": status() },
    });
  }
  const selection: Selection | null =
    target.version === null ? selectVersion(record, target.clientId, now()) : null;
  const version = target.version ?? selection?.version ?? record.version;
  if (target.version !== null && !isKnownVersion(record, version))
    throw versionNotFound(key, version, status());

  let found: SnapshotLookup | null | undefined = store.memorySnapshot(key, version);
  try {
    found ??= await store.snapshot(key, namespace, version, ctx);
  } catch (error) {
    throw upstreamUnavailable(upstreamReasonOf(error));
  }
  if (found === null) {
    // The current version's snapshot was checked when its head was adopted, so only an
    // explicitly requested old version can be missing.
    if (target.version !== null) throw versionNotFound(key, version, status());
    throw upstreamUnavailable("snapshot-missing");
  }
  tier = deeper(tier, found.tier);

  const { snapshot } = found;
  // `?version=N` is one immutable representation for everyone; the current version during a
  // rollout depends on Config-Client-Id, so no shared cache may keep it (docs/rollouts.md).
  const cacheControl =
    target.version !== null
      ? settings.entry.versionCacheControl
      : selection?.rollout
        ? settings.entry.rolloutCacheControl
        : settings.entry.headCacheControl;
  const vary = settings.entry.settings.visibility === "public" ? VARY_PUBLIC : VARY_PRIVATE;
  annotate(c, {
    key,
    version,
    ...(selection?.rollout ? { rollout: selection.rollout.role, share: selection.rollout.share } : {}),
    tier,
    stale,
    ...(upstreamError ? { upstreamError } : {}),
    ...(settings.upstreamError ? { settingsUpstreamError: settings.upstreamError } : {}),
  });
  c.set("served", { key, version, tier, stale, ...(upstreamError ? { upstreamError } : {}) });
  const perRequest: [string, string][] = [
    ["Cache-Control", cacheControl],
    ["Cache-Status", status()],
    ["Vary", vary],
    ["Server-Timing", `edge;dur=${(performance.now() - target.startedAt).toFixed(1)};desc="${tier}"`],
  ];
  if (selection?.rollout) {
    perRequest.push(["Config-Rollout", `${selection.rollout.role}; share=${selection.rollout.share}`]);
  }
  if (isNotModified(c, snapshot)) {
    return new Response(null, { status: 304, headers: headersOf(snapshot.notModifiedHeaders, perRequest) });
  }
  const headers = headersOf(snapshot.headers, perRequest);
  // RFC 9110 §9.3.2: HEAD carries the header fields GET would, Content-Length included.
  if (c.req.method === "HEAD") headers["Content-Length"] = String(snapshot.body.length);
  return new Response(snapshot.body, { status: 200, headers });
}

/**
 * The response's header fields, the snapshot's fixed ones then the request's own, as one plain
 * record: the cheapest init workerd turns into a `Response`'s headers (BENCHMARKS.md, finding 1).
 */
function headersOf(fixed: HeaderList, perRequest: HeaderList): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of fixed) headers[name] = value;
  for (const [name, value] of perRequest) headers[name] = value;
  return headers;
}

/** RFC 9110 §13.2.2: If-None-Match first; If-Modified-Since only when it is absent. */
function isNotModified(c: Context<EdgeHonoEnv>, snapshot: PreparedSnapshot): boolean {
  const ifNoneMatch = c.req.header("If-None-Match");
  if (ifNoneMatch !== undefined) return ifNoneMatchHits(ifNoneMatch, snapshot.meta.etag);
  return notModifiedSince(c.req.header("If-Modified-Since"), snapshot.meta.publishedAt);
}

function deeper(a: CacheTier, b: CacheTier): CacheTier {
  return TIER_DEPTH[a] >= TIER_DEPTH[b] ? a : b;
}

function versionNotFound(key: string, version: number, status: string): FleetconfError {
  return new FleetconfError("not_found", `Version ${version} of ${key} does not exist.`, {
    headers: { "Cache-Status": status },
  });
}
