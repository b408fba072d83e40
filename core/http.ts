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
 * Gives every request an id (the caller's `Request-Id` when well-formed, else a new UUID),
 * echoes it as `Request-Id`, and logs one line when the response is ready.
 */
export function requestContext(part: "edge" | "origin", options: { log?: boolean } = {}): MiddlewareHandler {
  const log = options.log ?? true;
  return async function requestContext(c, next) {
    const incoming = c.req.header("Request-Id");
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    c.set("requestId", requestId);
    c.set("logFields", {});
    const started = Date.now();
    await next();
    c.res.headers.set("Request-Id", requestId);
    if (log) {
      logLine({
        part,
        requestId,
        method: c.req.method,
        path: new URL(c.req.url).pathname,
        status: c.res.status,
        durationMs: Date.now() - started,
        ...(c.get("logFields") as Record<string, unknown>),
      });
    }
  };
}

/** Adds fields to the current request's log line. */
export function annotate(c: Context, fields: Record<string, unknown>): void {
  const current = c.get("logFields") as Record<string, unknown> | undefined;
  c.set("logFields", { ...(current ?? {}), ...fields });
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
      path: new URL(c.req.url).pathname,
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
    new FleetconfError("not_found", `No route for ${c.req.method} ${new URL(c.req.url).pathname}.`),
    requestId,
  );
};
