/**
 * Forging JWTs for the token-attack suites of the origin (admin tokens) and the edge (read
 * tokens): unsigned `alg: none` tokens, HMAC tokens keyed with whatever an attacker might know
 * (a public key, the JWKS, another shared secret), EdDSA tokens from the wrong key, and claims
 * that are expired, not yet valid, unbounded or over-scoped. Each attack has a name so the suites
 * can report what they tried.
 */
import { SignJWT } from "jose";
import { type PrivateJwk, toBase64Url, utf8Bytes } from "../../core";

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** Compact JWS with the given header and claims and an arbitrary (unverified) signature part. */
export function unsigned(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  signature = "",
): string {
  const part = (value: unknown) => toBase64Url(utf8Bytes(JSON.stringify(value)));
  return `${part(header)}.${part(claims)}.${signature}`;
}

export function hmac(
  alg: "HS256" | "HS384" | "HS512",
  key: Uint8Array,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ ...header, alg }).sign(key);
}

/**
 * HS256 computed by hand, for headers jose refuses to produce (an unknown `crit` extension): the
 * verifier, not the forger, must be the one to refuse them.
 */
export async function rawHs256(
  key: Uint8Array,
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
): Promise<string> {
  const input = unsigned({ ...header, alg: "HS256" }, claims).slice(0, -1);
  const hmacKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", hmacKey, utf8Bytes(input)));
  return `${input}.${toBase64Url(signature)}`;
}

export async function eddsa(
  jwk: PrivateJwk,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  const key = await crypto.subtle.importKey(
    "jwk",
    { kty: "OKP", crv: "Ed25519", x: jwk.x, d: jwk.d },
    { name: "Ed25519" },
    false,
    ["sign"],
  );
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "EdDSA", kid: jwk.kid, typ: "JWT", ...header })
    .sign(key);
}

export function fromBase64UrlBytes(text: string): Uint8Array {
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** Swaps one character of the signature part: a forged signature of the right shape. */
export function flipSignature(token: string): string {
  const [header, payload, signature = ""] = token.split(".");
  const i = Math.floor(signature.length / 2);
  const swapped = signature[i] === "A" ? "B" : "A";
  return `${header}.${payload}.${signature.slice(0, i)}${swapped}${signature.slice(i + 1)}`;
}

/** Replaces the payload of a genuine token, keeping its signature (claims tampering). */
export function swapPayload(token: string, claims: Record<string, unknown>): string {
  const [header, , signature] = token.split(".");
  return `${header}.${toBase64Url(utf8Bytes(JSON.stringify(claims)))}.${signature}`;
}

export interface Attack {
  name: string;
  token: () => Promise<string>;
}
