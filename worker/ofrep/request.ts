/**
 * An OFREP evaluation request parsed once at the boundary: which flags config it reads
 * (`Config-Flags-Key`, else `{namespace}/flags` for a read token scoped to one namespace,
 * DESIGN §8) and its evaluation context (`{"context": {...}}`, OFREP `evaluationRequest`).
 */
import type { EvaluationContext } from "@openfeature/core";
import type { Context } from "hono";
import { type ConfigKey, FleetconfError, readWithin, requireKey } from "../../core";
import type { EdgeHonoEnv } from "../app-env";

/** An evaluation context is a few attributes; 64 KiB is generous and bounds the parse. */
export const MAX_CONTEXT_BYTES = 64 * 1024;

export type ContextParse = { ok: true; context: EvaluationContext } | { ok: false; details: string };

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * The request's evaluation context. OFREP lists `targetingKey` as required, but flags without
 * targeting (and `fractional` given its own bucketing key) evaluate without one, as in flagd;
 * a flag that needs it reports that in its own result.
 */
export async function readEvaluationContext(c: Context<EdgeHonoEnv>): Promise<ContextParse> {
  const bytes = await readWithin(c.req.raw.body, MAX_CONTEXT_BYTES);
  if (bytes === null)
    return { ok: false, details: `The request body is larger than ${MAX_CONTEXT_BYTES} bytes.` };
  let body: unknown;
  try {
    body = JSON.parse(utf8.decode(bytes));
  } catch {
    return { ok: false, details: 'The request body must be JSON: {"context": {...}}.' };
  }
  if (!isPlainObject(body))
    return { ok: false, details: 'The request body must be a JSON object: {"context": {...}}.' };
  const context = body.context;
  // An absent context is an empty one (the web SDK may send none before it has a user).
  if (context === undefined || context === null) return { ok: true, context: {} };
  if (!isPlainObject(context)) return { ok: false, details: "context must be a JSON object." };
  if ("targetingKey" in context && typeof context.targetingKey !== "string")
    return { ok: false, details: "context.targetingKey must be a string." };
  return { ok: true, context: context as EvaluationContext };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The flags config key: the `Config-Flags-Key` header when present (any valid key), else
 * `{namespace}/flags` when the request's read token is scoped to exactly one namespace.
 */
export async function flagsKeyOf(c: Context<EdgeHonoEnv>): Promise<ConfigKey> {
  const named = c.req.header("Config-Flags-Key");
  if (named !== undefined) return requireKey(named.trim());
  const authorization = c.req.header("Authorization");
  if (authorization === undefined) {
    throw new FleetconfError(
      "invalid_request",
      "Name the flags config with the Config-Flags-Key header, or send a read token scoped to one namespace (its key is then {namespace}/flags).",
    );
  }
  const token = await c.get("services").readTokens.verify(authorization);
  const namespaces = token.scopes.filter((s) => s.startsWith("read:") && s !== "read:*");
  const only = namespaces.length === 1 ? namespaces[0] : undefined;
  if (only === undefined || token.scopes.includes("read:*")) {
    throw new FleetconfError(
      "invalid_request",
      "This token is not scoped to exactly one namespace: name the flags config with the Config-Flags-Key header.",
    );
  }
  return requireKey(`${only.slice("read:".length)}/flags`);
}
