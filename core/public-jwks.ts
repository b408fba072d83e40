/**
 * PUBLIC_JWKS, the one parser both workers use (the same value is set on the edge and the origin):
 * `{"keys": [...]}` of Ed25519 public keys with a kid and an optional fleetconf `purpose`. Only the
 * public members are kept (an allow-list), so a private `d` pasted by mistake is never served;
 * whether one was there is reported, because the origin refuses such a value outright while the
 * edge keeps serving the public part.
 */
import type { Jwks, PublicJwk } from "./jws";

export class PublicJwksError extends Error {
  override readonly name = "PublicJwksError";
}

export interface ParsedPublicJwks {
  jwks: Jwks;
  /** True when some key carried a private `d` (dropped from `jwks`). */
  hadPrivateKey: boolean;
}

export function parsePublicJwks(raw: string | undefined): ParsedPublicJwks {
  if (raw === undefined || raw.trim() === "") throw new PublicJwksError("PUBLIC_JWKS is not set.");
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new PublicJwksError("PUBLIC_JWKS is not valid JSON.");
  }
  const keys =
    typeof parsed === "object" && parsed !== null ? (parsed as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys)) {
    throw new PublicJwksError('PUBLIC_JWKS must be {"keys": [Ed25519 public JWKs with kids]}.');
  }
  let hadPrivateKey = false;
  const publicKeys = keys.map((value: unknown, index): PublicJwk => {
    const jwk = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
    if (
      jwk.kty !== "OKP" ||
      jwk.crv !== "Ed25519" ||
      typeof jwk.x !== "string" ||
      typeof jwk.kid !== "string" ||
      jwk.kid === ""
    ) {
      throw new PublicJwksError(`PUBLIC_JWKS key ${index} is not an Ed25519 public key with a kid.`);
    }
    const out: PublicJwk = { kty: "OKP", crv: "Ed25519", x: jwk.x, kid: jwk.kid };
    if (typeof jwk.alg === "string") out.alg = jwk.alg;
    if (typeof jwk.use === "string") out.use = jwk.use;
    const purpose = jwk.purpose;
    if (purpose === "snapshot" || purpose === "read-token") out.purpose = purpose;
    else if (purpose !== undefined)
      throw new PublicJwksError(`PUBLIC_JWKS key ${index} has an unknown purpose.`);
    // Every other member is dropped; `d` is the one that makes an OKP key private (RFC 8037 §2).
    if ("d" in jwk) hadPrivateKey = true;
    return out;
  });
  return { jwks: { keys: publicKeys }, hadPrivateKey };
}
