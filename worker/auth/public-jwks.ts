/**
 * PUBLIC_JWKS, parsed once per isolate by the one parser both workers share (core/public-jwks.ts):
 * the snapshot and read-token public keys, current and retired. Only public members are kept, so
 * a private `d` pasted by mistake is never published (the edge keeps serving the public part; the
 * origin refuses such a value), and the served document and its ETag are built here, not per request.
 */
import { type Jwks, parsePublicJwks as parseJwks, sha256, toBase64Url, utf8Bytes } from "../../core";

export interface PublicJwksDocument {
  jwks: Jwks;
  /** The exact `/.well-known/jwks.json` body. */
  body: string;
  etag: string;
}

export async function parsePublicJwks(raw: string | undefined): Promise<PublicJwksDocument> {
  const { jwks } = parseJwks(raw);
  const body = JSON.stringify(jwks);
  const etag = `"${toBase64Url((await sha256(utf8Bytes(body))).subarray(0, 16))}"`;
  return { jwks, body, etag };
}
