/**
 * Detached JWS with an unencoded payload (RFC 7515 Appendix F, RFC 7797) over a config's bytes.
 * Compact form `<protected>..<signature>`; the signing input is
 * `ASCII(<protected>) || "." || <body bytes>` (RFC 7797 §3), so the body is signed exactly as
 * served and any Ed25519 implementation can check it against the JWKS.
 */
import { concatBytes, fromBase64Url, toBase64Url, utf8Bytes } from "./encoding";

export interface SnapshotSignatureHeader {
  alg: "EdDSA";
  kid: string;
  b64: false;
  crit: ["b64"];
  /** The config key, its version and its publish time (seconds): binds the bytes to what they are. */
  key: string;
  ver: number;
  iat: number;
}

export interface PublicJwk {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
  kid: string;
  alg?: string;
  use?: string;
  /** fleetconf's own member: what the key signs, so a read-token key never verifies a snapshot and
   *  a root key (core/trust-root.ts) signs only root documents. */
  purpose?: "snapshot" | "read-token" | "root";
  [member: string]: unknown;
}

export interface PrivateJwk extends PublicJwk {
  d: string;
}

export interface Jwks {
  keys: PublicJwk[];
}

const ED25519 = { name: "Ed25519" } as const;

export async function importSigningKey(jwk: PrivateJwk): Promise<CryptoKey> {
  const { kty, crv, x, d } = jwk;
  return (await crypto.subtle.importKey("jwk", { kty, crv, x, d }, ED25519, false, ["sign"])) as CryptoKey;
}

export async function importVerifyKey(jwk: PublicJwk): Promise<CryptoKey> {
  const { kty, crv, x } = jwk;
  return (await crypto.subtle.importKey("jwk", { kty, crv, x }, ED25519, false, ["verify"])) as CryptoKey;
}

export function publicPart(jwk: PrivateJwk): PublicJwk {
  const { d: _d, ...rest } = jwk;
  return rest;
}

/** Signs a snapshot's body; returns the compact detached JWS `<protected>..<signature>`. */
export async function signSnapshot(
  key: CryptoKey,
  header: Omit<SnapshotSignatureHeader, "alg" | "b64" | "crit">,
  body: Uint8Array,
): Promise<string> {
  const full: SnapshotSignatureHeader = {
    alg: "EdDSA",
    kid: header.kid,
    b64: false,
    crit: ["b64"],
    key: header.key,
    ver: header.ver,
    iat: header.iat,
  };
  const protectedB64 = toBase64Url(utf8Bytes(JSON.stringify(full)));
  const input = concatBytes(utf8Bytes(protectedB64), utf8Bytes("."), body);
  const signature = new Uint8Array(await crypto.subtle.sign(ED25519, key, input));
  return `${protectedB64}..${toBase64Url(signature)}`;
}

export type SignatureCheck =
  | { ok: true; header: SnapshotSignatureHeader }
  | { ok: false; code: "malformed" | "unsupported" | "unknown_kid" | "bad_signature"; reason: string };

/** Parses the protected header of a detached JWS without verifying it. */
export function parseSignatureHeader(jws: string): SignatureCheck {
  const parts = jws.split(".");
  if (parts.length !== 3 || parts[1] !== "" || !parts[0] || !parts[2]) {
    return { ok: false, code: "malformed", reason: "not a detached compact JWS" };
  }
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(fromBase64Url(parts[0])),
    );
  } catch {
    return { ok: false, code: "malformed", reason: "protected header is not base64url JSON" };
  }
  if (typeof header !== "object" || header === null)
    return { ok: false, code: "malformed", reason: "header is not an object" };
  const h = header as Record<string, unknown>;
  // RFC 7797 §6: b64=false MUST be listed in crit; we accept nothing else unencoded.
  const crit = h.crit;
  if (h.alg !== "EdDSA") return { ok: false, code: "unsupported", reason: "alg must be EdDSA" };
  if (h.b64 !== false || !Array.isArray(crit) || crit.length !== 1 || crit[0] !== "b64") {
    return { ok: false, code: "unsupported", reason: 'expected b64=false with crit ["b64"]' };
  }
  if (
    typeof h.kid !== "string" ||
    typeof h.key !== "string" ||
    !Number.isSafeInteger(h.ver) ||
    !Number.isSafeInteger(h.iat)
  ) {
    return { ok: false, code: "malformed", reason: "kid, key, ver and iat are required" };
  }
  return { ok: true, header: h as unknown as SnapshotSignatureHeader };
}

/** Verifies a detached JWS over `body` against a JWKS (snapshot keys only). */
export async function verifySnapshot(
  jws: string,
  body: Uint8Array,
  jwks: Jwks,
  keyCache?: Map<string, CryptoKey>,
): Promise<SignatureCheck> {
  const parsed = parseSignatureHeader(jws);
  if (!parsed.ok) return parsed;
  const jwk = jwks.keys.find(
    (k) =>
      k.kid === parsed.header.kid &&
      k.kty === "OKP" &&
      k.crv === "Ed25519" &&
      (k.purpose ?? "snapshot") === "snapshot",
  );
  if (!jwk)
    return { ok: false, code: "unknown_kid", reason: `no snapshot key with kid ${parsed.header.kid}` };
  let key = keyCache?.get(jwk.kid);
  if (!key) {
    key = await importVerifyKey(jwk);
    keyCache?.set(jwk.kid, key);
  }
  const [protectedB64, , signatureB64] = jws.split(".") as [string, string, string];
  let signature: Uint8Array;
  try {
    signature = fromBase64Url(signatureB64);
  } catch {
    return { ok: false, code: "malformed", reason: "signature is not base64url" };
  }
  const input = concatBytes(utf8Bytes(protectedB64), utf8Bytes("."), body);
  const valid = await crypto.subtle.verify(ED25519, key, signature, input);
  return valid ? parsed : { ok: false, code: "bad_signature", reason: "signature does not verify" };
}

/** Generates a fresh Ed25519 key pair as JWKs with a random kid. */
export async function generateSigningJwk(purpose: "snapshot" | "read-token" | "root"): Promise<PrivateJwk> {
  const pair = (await crypto.subtle.generateKey(ED25519, true, ["sign", "verify"])) as CryptoKeyPair;
  const jwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
  if (typeof jwk.x !== "string" || typeof jwk.d !== "string") throw new Error("Ed25519 export failed");
  const prefix = purpose === "snapshot" ? "s" : purpose === "root" ? "r" : "t";
  const kid = `${prefix}-${toBase64Url(crypto.getRandomValues(new Uint8Array(9)))}`;
  return { kty: "OKP", crv: "Ed25519", x: jwk.x, d: jwk.d, kid, alg: "EdDSA", use: "sig", purpose };
}
