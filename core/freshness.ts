/**
 * `Config-Freshness` (DESIGN §8; TUF's timestamp role, spec §4.6 "timestamp.json"): a short-lived
 * statement by a snapshot key that a given version is the current one. Compact JWS
 * (RFC 7515 §7.1) `<header>.<payload>.<signature>`, header `{"alg":"EdDSA","kid":…}` (RFC 8037;
 * `"Ed25519"`, the fully specified name of RFC 9864, is accepted too), payload JSON
 * `{"key","ver","digest","iat","exp"}`: the config key, its current version, that version's
 * `Content-Digest` value (`sha-256=:…:`, RFC 9530), and the issue and expiry times in seconds.
 *
 * A client that has seen a proof for version N refuses anything older than N, and a client whose
 * newest proof is old (or expired) knows it may be frozen on an old answer.
 */
import { fromBase64, fromBase64Url, toBase64Url, utf8Bytes } from "./encoding";
import { importVerifyKey, type Jwks } from "./jws";

/** A header value is small; anything larger is refused before it is decoded. */
export const MAX_FRESHNESS_CHARS = 4096;

export interface FreshnessPayload {
  key: string;
  ver: number;
  digest: string;
  iat: number;
  exp: number;
}

export type FreshnessCheck =
  | { ok: true; payload: FreshnessPayload; kid: string }
  | { ok: false; code: "malformed" | "unknown_kid" | "bad_signature"; reason: string };

const ED25519 = { name: "Ed25519" } as const;

function decodeJson(part: string): unknown {
  return JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(fromBase64Url(part)));
}

/** Signs a freshness proof (the origin's alarm does this; tests too). */
export async function signFreshness(key: CryptoKey, kid: string, payload: FreshnessPayload): Promise<string> {
  const header = toBase64Url(utf8Bytes(JSON.stringify({ alg: "EdDSA", kid, typ: "fleetconf-freshness" })));
  const body = toBase64Url(
    utf8Bytes(
      JSON.stringify({
        key: payload.key,
        ver: payload.ver,
        digest: payload.digest,
        iat: payload.iat,
        exp: payload.exp,
      }),
    ),
  );
  const signature = new Uint8Array(await crypto.subtle.sign(ED25519, key, utf8Bytes(`${header}.${body}`)));
  return `${header}.${body}.${toBase64Url(signature)}`;
}

/** Verifies a proof's signature with a snapshot key of `jwks` and the shape of its payload. */
export async function verifyFreshness(
  jws: string,
  jwks: Jwks,
  keyCache?: Map<string, CryptoKey>,
): Promise<FreshnessCheck> {
  if (jws.length > MAX_FRESHNESS_CHARS)
    return { ok: false, code: "malformed", reason: "the proof is too long" };
  const parts = jws.trim().split(".");
  if (parts.length !== 3 || parts.some((p) => p === "")) {
    return { ok: false, code: "malformed", reason: "not a compact JWS" };
  }
  const [h, p, s] = parts as [string, string, string];
  let header: unknown;
  let payload: unknown;
  try {
    header = decodeJson(h);
    payload = decodeJson(p);
  } catch {
    return { ok: false, code: "malformed", reason: "header or payload is not base64url JSON" };
  }
  if (typeof header !== "object" || header === null)
    return { ok: false, code: "malformed", reason: "bad header" };
  const hd = header as Record<string, unknown>;
  if ((hd.alg !== "EdDSA" && hd.alg !== "Ed25519") || typeof hd.kid !== "string") {
    return { ok: false, code: "malformed", reason: "alg must be EdDSA (or Ed25519) with a kid" };
  }
  // RFC 7515 §4.1.11: a crit member we do not understand makes the JWS invalid.
  if (hd.crit !== undefined) return { ok: false, code: "malformed", reason: "unknown crit parameters" };
  if (typeof payload !== "object" || payload === null)
    return { ok: false, code: "malformed", reason: "bad payload" };
  const pl = payload as Record<string, unknown>;
  if (
    typeof pl.key !== "string" ||
    !Number.isSafeInteger(pl.ver) ||
    typeof pl.digest !== "string" ||
    !Number.isSafeInteger(pl.iat) ||
    !Number.isSafeInteger(pl.exp) ||
    (pl.exp as number) <= (pl.iat as number)
  ) {
    return { ok: false, code: "malformed", reason: "payload needs key, ver, digest, iat < exp" };
  }
  const kid = hd.kid;
  const jwk = jwks.keys.find((k) => k.kid === kid && (k.purpose ?? "snapshot") === "snapshot");
  if (!jwk) return { ok: false, code: "unknown_kid", reason: `no snapshot key with kid ${kid}` };
  let key = keyCache?.get(kid);
  if (!key) {
    key = await importVerifyKey(jwk);
    keyCache?.set(kid, key);
  }
  let signature: Uint8Array;
  try {
    signature = fromBase64Url(s);
  } catch {
    return { ok: false, code: "malformed", reason: "signature is not base64url" };
  }
  const valid = await crypto.subtle.verify(ED25519, key, signature, utf8Bytes(`${h}.${p}`));
  if (!valid) return { ok: false, code: "bad_signature", reason: "the proof's signature does not verify" };
  return {
    ok: true,
    kid,
    payload: {
      key: pl.key as string,
      ver: pl.ver as number,
      digest: pl.digest as string,
      iat: pl.iat as number,
      exp: pl.exp as number,
    },
  };
}

/** True when two `sha-256=:…:` digest values name the same hash (compared as bytes). */
export function sameSha256Digest(a: string, b: string): boolean {
  const pick = (v: string) => /sha-256\s*=\s*:([A-Za-z0-9+/]+={0,2}):/.exec(v)?.[1];
  const x = pick(a);
  const y = pick(b);
  if (!x || !y) return false;
  try {
    const bx = fromBase64(x);
    const by = fromBase64(y);
    return bx.length === 32 && bx.length === by.length && bx.every((byte, i) => byte === by[i]);
  } catch {
    return false;
  }
}
