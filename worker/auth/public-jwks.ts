/**
 * PUBLIC_JWKS, parsed once per isolate: the snapshot and read-token public keys, current and
 * retired. Only public members are kept (an allow-list, so a private `d` pasted by mistake is
 * never published), and the served document and its ETag are built here, not per request.
 */
import { type Jwks, type PublicJwk, sha256, toBase64Url, utf8Bytes } from "../../core";

export interface PublicJwksDocument {
  jwks: Jwks;
  /** The exact `/.well-known/jwks.json` body. */
  body: string;
  etag: string;
}

const PUBLIC_MEMBERS = ["kty", "crv", "x", "kid", "alg", "use", "purpose"] as const;

export async function parsePublicJwks(raw: string | undefined): Promise<PublicJwksDocument> {
  if (raw === undefined || raw.trim() === "") throw new Error("PUBLIC_JWKS is not set");
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error("PUBLIC_JWKS is not JSON");
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error('PUBLIC_JWKS must be {"keys": [...]}');
  const publicKeys = keys.map((key: unknown, index) => publicKeyOf(key, index));
  const jwks: Jwks = { keys: publicKeys };
  const body = JSON.stringify(jwks);
  const etag = `"${toBase64Url((await sha256(utf8Bytes(body))).subarray(0, 16))}"`;
  return { jwks, body, etag };
}

function publicKeyOf(value: unknown, index: number): PublicJwk {
  const jwk = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  if (
    jwk.kty !== "OKP" ||
    jwk.crv !== "Ed25519" ||
    typeof jwk.x !== "string" ||
    typeof jwk.kid !== "string"
  ) {
    throw new Error(`PUBLIC_JWKS key ${index} is not an Ed25519 public key with a kid`);
  }
  if (jwk.purpose !== undefined && jwk.purpose !== "snapshot" && jwk.purpose !== "read-token") {
    throw new Error(`PUBLIC_JWKS key ${index} has an unknown purpose`);
  }
  const out: Record<string, unknown> = {};
  for (const member of PUBLIC_MEMBERS) if (jwk[member] !== undefined) out[member] = jwk[member];
  return out as PublicJwk;
}
