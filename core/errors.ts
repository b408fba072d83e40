/**
 * The one error type of fleetconf and its rendering as problem+json (RFC 9457).
 * Every part throws `FleetconfError` with a code from the closed set below; the app's
 * `onError` renders it once. Codes are stable strings that tests and clients can assert.
 */

export const ERROR_CODES = {
  invalid_key: { status: 400, title: "Invalid config key" },
  invalid_json: { status: 400, title: "Invalid JSON document" },
  invalid_request: { status: 400, title: "Invalid request" },
  invalid_version: { status: 400, title: "Invalid version" },
  unauthorized: { status: 401, title: "Missing or invalid token" },
  forbidden: { status: 403, title: "Token scope does not cover this resource" },
  own_approval: { status: 403, title: "The author of a change request cannot approve it" },
  not_found: { status: 404, title: "Not found" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  conflict: { status: 409, title: "Conflict" },
  gone: { status: 410, title: "Gone" },
  precondition_failed: { status: 412, title: "Precondition failed" },
  payload_too_large: { status: 413, title: "Payload too large" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  schema_violation: { status: 422, title: "Config does not match its schema" },
  unknown_member: { status: 422, title: "A bundle names a key that has no live version" },
  rate_limited: { status: 429, title: "Too many requests" },
  internal: { status: 500, title: "Internal error" },
  upstream_unavailable: { status: 503, title: "Upstream unavailable" },
  too_many_waiters: { status: 503, title: "Too many long-poll requests waiting here" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const PROBLEM_CONTENT_TYPE = "application/problem+json";
const TYPE_BASE = "https://fleetconf.dev/problems/";

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  [extension: string]: unknown;
}

export class FleetconfError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    detail: string,
    options: { extensions?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(detail);
    this.name = "FleetconfError";
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }

  toProblem(instance?: string): Problem {
    return {
      ...this.extensions,
      type: TYPE_BASE + this.code.replaceAll("_", "-"),
      title: ERROR_CODES[this.code].title,
      status: this.status,
      detail: this.message,
      code: this.code,
      ...(instance === undefined ? {} : { instance }),
    };
  }
}

/** Renders a problem as a Response (RFC 9457 §3), with any extra headers (Retry-After, WWW-Authenticate). */
export function problemResponse(error: FleetconfError, requestId?: string): Response {
  const headers = new Headers({ "Content-Type": PROBLEM_CONTENT_TYPE, "Cache-Control": "no-store" });
  for (const [name, value] of Object.entries(error.headers)) headers.set(name, value);
  if (requestId !== undefined) headers.set("Request-Id", requestId);
  return new Response(JSON.stringify(error.toProblem(requestId)), { status: error.status, headers });
}

export function isFleetconfError(value: unknown): value is FleetconfError {
  return value instanceof FleetconfError;
}
