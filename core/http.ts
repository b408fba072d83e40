/**
 * HTTP plumbing shared by the edge and the origin: request ids, one structured log line per
 * request, and the single place where errors become problem+json. Depends on Hono, never on a
 * binding.
 */
import type { Context, ErrorHandler, MiddlewareHandler, NotFoundHandler } from "hono";
import { FleetconfError, problemResponse } from "./errors";

export interface RequestVariables {
  requestId: string;
  /** Fields a handler adds to the request's log line (key, version, tier…). Never secrets. */
  logFields: Record<string, unknown>;
}

/** Emits one JSON log line. Callers pass only non-secret fields. */
export function logLine(fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ time: new Date().toISOString(), ...fields }));
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * The path of a request URL exactly as sent (no percent-decoding, no query), without building a
 * `URL`: workerd hands workers absolute, normalised URLs, so the path starts at the first `/` after
 * the authority.
 */
export function rawPath(url: string): string {
  const scheme = url.indexOf("://");
  let start = scheme < 0 ? 0 : scheme + 3;
  while (start < url.length && !endsAuthority(url.charCodeAt(start))) start++;
  if (start === url.length || url.charCodeAt(start) !== SLASH) return "/";
  let end = start;
  while (end < url.length && !endsPath(url.charCodeAt(end))) end++;
  return url.slice(start, end);
}

const SLASH = 0x2f;
const QUESTION_MARK = 0x3f;
const HASH = 0x23;
const endsPath = (code: number) => code === QUESTION_MARK || code === HASH;
const endsAuthority = (code: number) => code === SLASH || endsPath(code);

export interface RequestLogOptions {
  /** One JSON log line per request (default true); tests turn it off to keep output readable. */
  log?: boolean;
  /**
   * Called once the response is ready: `n > 1` logs 1 in `n` of the requests it says so for (a
   * counter, so exactly every n-th), the line carrying `sampleRate: n` so counts scale back up;
   * 1 logs the request. Default: log every request.
   */
  sampleRate?: (c: Context) => number;
}

/** Starts a request: its id (the caller's `Request-Id` when well-formed, else a new UUID) and log fields. */
export function beginRequest(c: Context): string {
  const incoming = c.req.header("Request-Id");
  const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
  c.set("requestId", requestId);
  c.set("logFields", {});
  return requestId;
}

/**
 * Ends a request: echoes its id as `Request-Id` and writes its log line (or 1 in n of them, when
 * `sampleRate` says so: the line is the largest single cost of a hot edge request).
 */
export function requestLogger(
  part: "edge" | "origin",
  options: RequestLogOptions = {},
): (c: Context, requestId: string, startedMs: number) => void {
  const log = options.log ?? true;
  const sampleRate = options.sampleRate;
  /** Requests eligible for sampling so far; every n-th of them is logged. */
  let sampled = 0;
  return (c, requestId, startedMs) => {
    c.res.headers.set("Request-Id", requestId);
    if (!log) return;
    const rate = sampleRate ? sampleRate(c) : 1;
    if (rate > 1 && sampled++ % rate !== 0) return;
    logLine({
      part,
      requestId,
      method: c.req.method,
      path: rawPath(c.req.url),
      status: c.res.status,
      durationMs: Date.now() - startedMs,
      ...(rate > 1 ? { sampleRate: rate } : {}),
      ...(c.get("logFields") as Record<string, unknown>),
    });
  };
}

/** Request id, `Request-Id` echo and one log line per request, as one middleware (the origin's). */
export function requestContext(part: "edge" | "origin", options: RequestLogOptions = {}): MiddlewareHandler {
  const end = requestLogger(part, options);
  return async function requestContext(c, next) {
    const requestId = beginRequest(c);
    const started = Date.now();
    await next();
    end(c, requestId, started);
  };
}

/** Adds fields to the current request's log line. */
export function annotate(c: Context, fields: Record<string, unknown>): void {
  const current = c.get("logFields") as Record<string, unknown> | undefined;
  if (current === undefined) c.set("logFields", { ...fields });
  else Object.assign(current, fields);
}

/** The app's one error handler: FleetconfError → its problem; anything else → logged 500. */
export function problemErrorHandler(part: "edge" | "origin"): ErrorHandler {
  return function renderProblem(error, c) {
    const requestId = (c.get("requestId") as string | undefined) ?? crypto.randomUUID();
    if (error instanceof FleetconfError) return problemResponse(error, requestId);
    logLine({
      part,
      level: "error",
      requestId,
      path: rawPath(c.req.url),
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
    return problemResponse(
      new FleetconfError("internal", "An internal error occurred; quote the request id."),
      requestId,
    );
  };
}

export const problemNotFound: NotFoundHandler = (c) => {
  const requestId = c.get("requestId") as string | undefined;
  return problemResponse(
    new FleetconfError("not_found", `No route for ${c.req.method} ${rawPath(c.req.url)}.`),
    requestId,
  );
};
