/**
 * Request bodies of the admin API, parsed once at the boundary: the media type is checked before a
 * byte is read (415), the size limit is enforced while streaming whether or not a Content-Length
 * was sent (413), and the bytes must be a strict JSON document (400, core/json.ts).
 */
import type { MiddlewareHandler } from "hono";
import { FleetconfError, readWithin, requireJsonDocument } from "../../core";
import type { OriginApp } from "../app-env";

/** Bodies of the small control routes (rollback, rollout, namespace settings, tokens). */
export const CONTROL_BODY_LIMIT = 16 * 1024;

/**
 * `application/json` or any `type/subtype+json` (RFC 6839 §3.1). JSON is UTF-8 (RFC 8259 §8.1),
 * so a charset parameter other than utf-8 is refused rather than misread.
 */
export function requireJsonMediaType(contentType: string | undefined): void {
  const [essence = "", ...params] = (contentType ?? "").split(";").map((part) => part.trim().toLowerCase());
  const isJson =
    essence === "application/json" || /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+\+json$/.test(essence);
  if (!isJson) {
    throw new FleetconfError(
      "unsupported_media_type",
      "The body must be JSON: send Content-Type: application/json.",
    );
  }
  for (const param of params) {
    const [name, value = ""] = param.split("=").map((s) => s.trim());
    if (name === "charset" && value.replaceAll('"', "") !== "utf-8") {
      throw new FleetconfError("unsupported_media_type", "JSON is UTF-8; charset must be utf-8 if given.");
    }
  }
}

function tooLarge(limit: number): FleetconfError {
  return new FleetconfError("payload_too_large", `The body is larger than the limit of ${limit} bytes.`, {
    extensions: { limit },
  });
}

/** Reads at most `limit` bytes, stopping (and cancelling the upload) as soon as it goes over. */
export async function readBodyWithin(request: Request, limit: number): Promise<Uint8Array> {
  const declared = request.headers.get("Content-Length");
  if (declared !== null && /^[0-9]+$/.test(declared) && Number(declared) > limit) throw tooLarge(limit);
  const body = await readWithin(request.body, limit);
  if (body === null) throw tooLarge(limit);
  return body;
}

/** A config body: JSON media type, within the limit, a valid document. Returns the exact bytes. */
export async function readConfigBody(request: Request, limit: number): Promise<Uint8Array> {
  requireJsonMediaType(request.headers.get("Content-Type") ?? undefined);
  const bytes = await readBodyWithin(request, limit);
  requireJsonDocument(bytes);
  return bytes;
}

/**
 * The body of a declared control route, read by the strict rules before its zod validator sees
 * it: JSON media type (415), at most `limit` bytes while streaming (413), one strict JSON document
 * (400: no duplicate member names, no trailing bytes, nesting bounded, core/json.ts). The checked
 * text replaces the request's (already consumed) body stream, so the route's `json` validator
 * parses only bytes the strict reader accepted, and the upload is read from the network once.
 */
export function strictJsonBody(limit = CONTROL_BODY_LIMIT): MiddlewareHandler<OriginApp> {
  return async function strictJsonBody(c, next) {
    requireJsonMediaType(c.req.header("Content-Type"));
    const text = requireJsonDocument(await readBodyWithin(c.req.raw, limit));
    c.req.raw = new Request(c.req.raw, { body: text });
    await next();
  };
}
