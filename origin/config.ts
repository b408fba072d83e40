/**
 * The origin's configuration, parsed and checked once per isolate from its env (vars + secrets):
 * JSON key sets are parsed, CryptoKeys imported, and limits clamped here so that no request path
 * ever re-parses a secret. A misconfigured origin fails every request with a logged reason rather
 * than publishing with a half-read key set.
 */

import { createRemoteJWKSet, customFetch } from "jose";
import {
  type AdminKeySource,
  concatBytes,
  importSigningKey,
  type Jwks,
  KV_VALUE_LIMIT_BYTES,
  DEFAULT_MAX_CONFIG_BYTES as LIBRARY_DEFAULT_MAX_BYTES,
  type ParsedPublicJwks,
  type PrivateJwk,
  type PublicJwk,
  parseIntegerSetting,
  parsePublicJwks,
  secretStrength,
} from "../core";
import type { OriginVars } from "./env-vars";

export const DEFAULT_MAX_CONFIG_BYTES = LIBRARY_DEFAULT_MAX_BYTES;
/**
 * A snapshot record is the body plus a metadata line (key, ETag, digest, signature: well under
 * 16 KiB), and the whole record must fit in one KV value (25 MiB), so bodies stop 16 KiB short.
 */
export const MAX_CONFIG_BYTES_CEILING = KV_VALUE_LIMIT_BYTES - 16 * 1024;
export const DEFAULT_PURGE_API_BASE = "https://api.cloudflare.com/client/v4";
/** RFC 7518 §3.2: an HS256 key MUST be at least as long as the hash output (256 bits). */
const MIN_ADMIN_SECRET_BYTES = 32;

export type PurgeSettings =
  // The EDGE binding itself is read from the env at use: bindings belong to the env they came with.
  { mode: "service"; secret: string } | { mode: "zone"; zoneId: string; apiToken: string; apiBase: string };

export interface OriginConfig {
  buildVersion: string;
  maxConfigBytes: number;
  /** The first SIGNING_KEYS entry, imported for signing snapshots. */
  signing: { key: CryptoKey; kid: string };
  /** The first TOKEN_KEYS entry, which signs read tokens. */
  tokenKey: PrivateJwk;
  publicJwks: Jwks;
  adminKeys: AdminKeySource;
  purge: PurgeSettings;
}

export class ConfigurationError extends Error {
  override readonly name = "ConfigurationError";
}

let memo: { fingerprint: string; config: Promise<OriginConfig> } | null = null;

/**
 * The parsed configuration, built once per isolate. Keyed by the env's values (not its identity)
 * so a changed secret (tests, `wrangler dev` reloads) is picked up and a failed parse is retried.
 */
export function originConfig(env: OriginVars): Promise<OriginConfig> {
  const fingerprint = JSON.stringify([
    env.BUILD_VERSION,
    env.MAX_CONFIG_BYTES,
    env.SIGNING_KEYS,
    env.TOKEN_KEYS,
    env.PUBLIC_JWKS,
    env.ADMIN_JWT_SECRET,
    env.ADMIN_JWKS_URL,
    env.ADMIN_ISSUER,
    env.PURGE_MODE,
    env.PURGE_SECRET,
    env.PURGE_ZONE_ID,
    env.PURGE_API_TOKEN,
    env.PURGE_API_BASE,
    env.EDGE !== undefined,
  ]);
  if (memo && memo.fingerprint === fingerprint) return memo.config;
  const config = parseOriginConfig(env);
  const entry = { fingerprint, config };
  memo = entry;
  config.catch(() => {
    if (memo === entry) memo = null;
  });
  return config;
}

export async function parseOriginConfig(env: OriginVars): Promise<OriginConfig> {
  const signingKeys = parsePrivateKeys("SIGNING_KEYS", env.SIGNING_KEYS);
  const tokenKeys = parsePrivateKeys("TOKEN_KEYS", env.TOKEN_KEYS);
  const publicJwks = publicJwksFrom(env.PUBLIC_JWKS);
  const signer = signingKeys[0] as PrivateJwk;
  const tokenKey = tokenKeys[0] as PrivateJwk;
  // Publishing with a key the edge cannot verify would make every client reject the config.
  for (const [name, key, purpose] of [
    ["SIGNING_KEYS", signer, "snapshot"],
    ["TOKEN_KEYS", tokenKey, "read-token"],
  ] as const) {
    const listed = publicJwks.keys.find((k) => k.kid === key.kid);
    if (!listed || listed.x !== key.x || (listed.purpose ?? "snapshot") !== purpose) {
      throw new ConfigurationError(`${name}[0] (kid ${key.kid}) is not in PUBLIC_JWKS as a ${purpose} key.`);
    }
  }
  let signingKey: CryptoKey;
  try {
    signingKey = await importSigningKey(signer);
  } catch {
    throw new ConfigurationError("SIGNING_KEYS[0] is not a usable Ed25519 private key.");
  }
  return {
    buildVersion: env.BUILD_VERSION || "unknown",
    maxConfigBytes: parseMaxConfigBytes(env.MAX_CONFIG_BYTES),
    signing: { key: signingKey, kid: signer.kid },
    tokenKey,
    publicJwks,
    adminKeys: adminKeySourceFrom(env),
    purge: purgeSettingsFrom(env),
  };
}

/** MAX_CONFIG_BYTES: a positive integer, default 1 MiB, clamped to what one KV value can hold. */
export function parseMaxConfigBytes(raw: string | undefined): number {
  const parsed = parseIntegerSetting("MAX_CONFIG_BYTES", raw, {
    default: DEFAULT_MAX_CONFIG_BYTES,
    min: 1,
    max: MAX_CONFIG_BYTES_CEILING,
    clampToMax: true,
  });
  if (!parsed.ok) throw new ConfigurationError(parsed.reason);
  return parsed.value;
}

export function adminKeySourceFrom(
  env: Pick<OriginVars, "ADMIN_JWKS_URL" | "ADMIN_ISSUER" | "ADMIN_JWT_SECRET">,
): AdminKeySource {
  if (env.ADMIN_JWKS_URL) {
    let url: URL;
    try {
      url = new URL(env.ADMIN_JWKS_URL);
    } catch {
      throw new ConfigurationError("ADMIN_JWKS_URL is not a URL.");
    }
    if (url.protocol !== "https:" && url.hostname !== "127.0.0.1" && url.hostname !== "localhost") {
      throw new ConfigurationError("ADMIN_JWKS_URL must use https (plain http only on loopback).");
    }
    // Without an issuer any token signed by a key at that URL would do, whoever it was minted
    // for (a shared IdP signs for many tenants): OIDC mode refuses to run without one.
    if (!env.ADMIN_ISSUER) {
      throw new ConfigurationError("ADMIN_JWKS_URL needs ADMIN_ISSUER (the issuer admin tokens must name).");
    }
    return {
      kind: "jwks",
      getKey: createRemoteJWKSet(url, { [customFetch]: cappedJwksFetch }),
      issuer: env.ADMIN_ISSUER,
    };
  }
  const secret = env.ADMIN_JWT_SECRET ?? "";
  if (new TextEncoder().encode(secret).length < MIN_ADMIN_SECRET_BYTES) {
    throw new ConfigurationError(
      `ADMIN_JWT_SECRET must be at least ${MIN_ADMIN_SECRET_BYTES} bytes (or set ADMIN_JWKS_URL).`,
    );
  }
  return { kind: "secret", secret };
}

/** A JWKS is a few keys: anything past this is refused before it is read whole (endless data). */
export const MAX_JWKS_BYTES = 64 * 1024;

/**
 * jose's fetch for the admin JWKS with a size cap: refused by Content-Length when it says more,
 * else read as a stream and cut off past MAX_JWKS_BYTES (a missing or lying length is no way in).
 */
export async function cappedJwksFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const response = await fetch(input, init);
  const declared = Number(response.headers.get("Content-Length") ?? "0");
  if (declared > MAX_JWKS_BYTES) {
    await response.body?.cancel();
    throw new Error(`the JWKS is larger than ${MAX_JWKS_BYTES} bytes`);
  }
  if (!response.body) return response;
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_JWKS_BYTES) {
      await reader.cancel();
      throw new Error(`the JWKS is larger than ${MAX_JWKS_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return new Response(concatBytes(...chunks), {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

function purgeSettingsFrom(env: OriginVars): PurgeSettings {
  const mode = env.PURGE_MODE ?? "service";
  if (mode === "service") {
    if (!env.EDGE) throw new ConfigurationError("PURGE_MODE=service needs the EDGE service binding.");
    if (!env.PURGE_SECRET) throw new ConfigurationError("PURGE_MODE=service needs PURGE_SECRET.");
    const strength = secretStrength(env.PURGE_SECRET);
    // Refused, not warned about: a weak secret lets anyone purge every edge cache or read heads.
    if (!strength.ok) throw new ConfigurationError(`PURGE_SECRET is too weak: ${strength.reason}.`);
    return { mode, secret: env.PURGE_SECRET };
  }
  if (mode === "zone") {
    if (!env.PURGE_ZONE_ID || !/^[A-Za-z0-9]{1,64}$/.test(env.PURGE_ZONE_ID)) {
      throw new ConfigurationError("PURGE_MODE=zone needs PURGE_ZONE_ID (the zone's id).");
    }
    if (!env.PURGE_API_TOKEN) throw new ConfigurationError("PURGE_MODE=zone needs PURGE_API_TOKEN.");
    return {
      mode,
      zoneId: env.PURGE_ZONE_ID,
      apiToken: env.PURGE_API_TOKEN,
      apiBase: (env.PURGE_API_BASE || DEFAULT_PURGE_API_BASE).replace(/\/+$/, ""),
    };
  }
  throw new ConfigurationError(`PURGE_MODE must be "service" or "zone", not ${JSON.stringify(mode)}.`);
}

function parseJson(name: string, raw: string | undefined): unknown {
  if (!raw) throw new ConfigurationError(`${name} is not set.`);
  try {
    return JSON.parse(raw);
  } catch {
    throw new ConfigurationError(`${name} is not valid JSON.`);
  }
}

function isEd25519Jwk(value: unknown): value is PublicJwk {
  if (typeof value !== "object" || value === null) return false;
  const jwk = value as Record<string, unknown>;
  return (
    jwk.kty === "OKP" &&
    jwk.crv === "Ed25519" &&
    typeof jwk.x === "string" &&
    typeof jwk.kid === "string" &&
    jwk.kid.length > 0
  );
}

function parsePrivateKeys(name: string, raw: string | undefined): PrivateJwk[] {
  const value = parseJson(name, raw);
  if (!Array.isArray(value) || value.length === 0) {
    throw new ConfigurationError(`${name} must be a non-empty JSON array of Ed25519 private JWKs.`);
  }
  return value.map((jwk, index) => {
    if (!isEd25519Jwk(jwk) || typeof (jwk as { d?: unknown }).d !== "string") {
      throw new ConfigurationError(`${name}[${index}] is not an Ed25519 private JWK with a kid.`);
    }
    return jwk as PrivateJwk;
  });
}

/** The one PUBLIC_JWKS parser (core), stricter here: the origin refuses a value holding a private key. */
function publicJwksFrom(raw: string | undefined): Jwks {
  let parsed: ParsedPublicJwks;
  try {
    parsed = parsePublicJwks(raw);
  } catch (error) {
    throw new ConfigurationError(error instanceof Error ? error.message : String(error));
  }
  // Never keep a private part, even if an operator pasted one in by mistake: fix the value.
  if (parsed.hadPrivateKey) throw new ConfigurationError("PUBLIC_JWKS contains a private key (d).");
  return parsed.jwks;
}
