/**
 * OpenFeature Remote Evaluation Protocol at the edge (DESIGN §8; open-feature/protocol
 * `service/openapi.yaml` v0.3.0): `POST /ofrep/v1/evaluate/flags/{flag}` evaluates one flag
 * for the request's context, `POST /ofrep/v1/evaluate/flags` evaluates them all and answers
 * `304` when `If-None-Match` holds the tag of the same flags version and context.
 *
 * The outcomes OFREP defines (a flag's value, FLAG_NOT_FOUND, INVALID_CONTEXT, PARSE_ERROR,
 * GENERAL) use its JSON shapes, which the providers parse; the ones it leaves open (401, 403, a
 * missing flags config, an unavailable store) are this API's problem+json, as on config reads.
 */
import { type Context, Hono } from "hono";
import { cors } from "hono/cors";
import { annotate, cacheStatus, FleetconfError, ifNoneMatchHits, rawPath } from "../../core";
import type { EdgeHonoEnv } from "../app-env";
import { bulkEtagOf } from "../ofrep/bulk-etag";
import { evaluateAll, evaluateFlag, flagSetOf } from "../ofrep/flag-set";
import { type FlagsSnapshot, readFlagsSnapshot } from "../ofrep/flags-source";
import { flagsKeyOf, readEvaluationContext } from "../ofrep/request";

const SINGLE_PREFIX = "/ofrep/v1/evaluate/flags/";
const JSON_HEADERS = { "Content-Type": "application/json" };

export function ofrepRoutes(): Hono<EdgeHonoEnv> {
  const routes = new Hono<EdgeHonoEnv>();
  // Browsers call OFREP across origins (the web SDK's provider). Tokens travel as Bearer
  // headers, never cookies, so any origin may call; the tag must be readable for revalidation.
  routes.use(
    "/ofrep/*",
    cors({
      origin: "*",
      allowMethods: ["POST"],
      allowHeaders: [
        "Content-Type",
        "Authorization",
        "If-None-Match",
        "Config-Flags-Key",
        "Config-Client-Id",
      ],
      exposeHeaders: ["ETag", "Config-Version", "Cache-Status"],
      maxAge: 86400,
    }),
  );
  routes.post("/ofrep/v1/evaluate/flags", evaluateBulk);
  routes.post(`${SINGLE_PREFIX}*`, evaluateSingle);
  routes.all("/ofrep/v1/evaluate/*", () => {
    throw new FleetconfError("method_not_allowed", "OFREP evaluations are POST requests.", {
      headers: { Allow: "POST" },
    });
  });
  return routes;
}

async function evaluateSingle(c: Context<EdgeHonoEnv>): Promise<Response> {
  const flagKey = flagKeyOf(c.req.url);
  const flagsKey = await flagsKeyOf(c);
  const parsedContext = await readEvaluationContext(c);
  if (!parsedContext.ok) {
    return ofrepJson(400, {
      key: flagKey,
      errorCode: "INVALID_CONTEXT",
      errorDetails: parsedContext.details,
    });
  }
  const source = await readFlagsSnapshot(c, flagsKey);
  const set = flagSetOf(source.snapshot);
  if (!set.ok) {
    annotate(c, { flag: flagKey, errorCode: "PARSE_ERROR" });
    return ofrepJson(400, { key: flagKey, errorCode: "PARSE_ERROR", errorDetails: set.reason }, source);
  }
  const evaluation = evaluateFlag(set.flags, flagKey, parsedContext.context);
  if (evaluation === null) {
    annotate(c, { flag: flagKey, errorCode: "FLAG_NOT_FOUND" });
    return ofrepJson(
      404,
      {
        key: flagKey,
        errorCode: "FLAG_NOT_FOUND",
        errorDetails: `Flag '${flagKey}' is not in ${flagsKey.key}, or is disabled.`,
      },
      source,
    );
  }
  const failed = "errorCode" in evaluation;
  annotate(c, {
    flag: flagKey,
    ...(failed ? { errorCode: evaluation.errorCode } : { reason: evaluation.reason }),
  });
  return ofrepJson(failed ? 400 : 200, evaluation, source);
}

async function evaluateBulk(c: Context<EdgeHonoEnv>): Promise<Response> {
  const flagsKey = await flagsKeyOf(c);
  const parsedContext = await readEvaluationContext(c);
  if (!parsedContext.ok) {
    return ofrepJson(400, { errorCode: "INVALID_CONTEXT", errorDetails: parsedContext.details });
  }
  const source = await readFlagsSnapshot(c, flagsKey);
  const etag = await bulkEtagOf(source.snapshot.meta.etag, parsedContext.context);
  // RFC 9110 §13.1.2 (weak comparison): the same flags version and context, nothing to send.
  const ifNoneMatch = c.req.header("If-None-Match");
  if (ifNoneMatch !== undefined && ifNoneMatchHits(ifNoneMatch, etag)) {
    annotate(c, { bulk: true, notModified: true });
    return new Response(null, { status: 304, headers: identityHeaders(source, etag) });
  }
  const set = flagSetOf(source.snapshot);
  if (!set.ok) return ofrepJson(400, { errorCode: "PARSE_ERROR", errorDetails: set.reason }, source);
  const flags = evaluateAll(set.flags, parsedContext.context);
  annotate(c, { bulk: true, flags: flags.length });
  return new Response(JSON.stringify({ flags, metadata: set.flags.getFlagSetMetadata() }), {
    status: 200,
    headers: { ...JSON_HEADERS, ...identityHeaders(source, etag) },
  });
}

/** The flag's name from the raw path: percent-decoded once, since flagd allows any name. */
function flagKeyOf(url: string): string {
  const raw = rawPath(url).slice(SINGLE_PREFIX.length);
  let key: string;
  try {
    key = decodeURIComponent(raw);
  } catch {
    throw new FleetconfError("invalid_request", "The flag name in the path is not valid percent-encoding.");
  }
  if (key.length === 0) throw new FleetconfError("invalid_request", "Name the flag to evaluate.");
  return key;
}

/**
 * Which flags version answered, and caching: an evaluation depends on the request body, which
 * no HTTP cache keys on, so it is never stored (the bulk tag is revalidated by the provider).
 */
function identityHeaders(source: FlagsSnapshot, etag?: string): Record<string, string> {
  return {
    "Cache-Control": "no-store",
    "Config-Version": String(source.version),
    "Cache-Status": cacheStatus(source.tier, { stale: source.stale }),
    ...(etag === undefined ? {} : { ETag: etag }),
  };
}

function ofrepJson(status: number, body: unknown, source?: FlagsSnapshot): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: source === undefined ? JSON_HEADERS : { ...JSON_HEADERS, ...identityHeaders(source) },
  });
}
