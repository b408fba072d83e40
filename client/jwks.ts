/**
 * Key documents as the SDK reads them: JWKS parsing (Ed25519 only), RFC 7638 thumbprints for
 * pinning keys by hash, and a bounded download for documents fetched from the edge (a JWKS or a
 * root), so an endless answer is cut off instead of filling memory (TUF's "endless data").
 */
import { sha256, toBase64Url, utf8Bytes } from "../core/encoding";
import type { Jwks, PublicJwk } from "../core/jws";
import { readWithin } from "../core/streams";
import { ConfigClientError } from "./errors";

export const DEFAULT_JWKS_REFETCH_MIN_MS = 60_000;
/** A JWKS is a handful of keys; far more than that is refused while it streams in. */
export const MAX_JWKS_BYTES = 64 * 1024;

/** Parses a JWKS document, keeping only Ed25519 keys (everything else cannot sign snapshots). */
export function parseJwks(raw: unknown): Jwks | null {
  if (typeof raw !== "object" || raw === null || !Array.isArray((raw as { keys?: unknown }).keys))
    return null;
  const keys: PublicJwk[] = [];
  for (const candidate of (raw as { keys: unknown[] }).keys) {
    if (typeof candidate !== "object" || candidate === null) continue;
    const k = candidate as Record<string, unknown>;
    if (k.kty !== "OKP" || k.crv !== "Ed25519" || typeof k.x !== "string" || typeof k.kid !== "string")
      continue;
    if (k.purpose !== undefined && k.purpose !== "snapshot" && k.purpose !== "read-token") continue;
    keys.push(k as PublicJwk);
  }
  return { keys };
}

/**
 * The RFC 7638 thumbprint (SHA-256, base64url) of an Ed25519 JWK: the hash of its required members
 * `crv`, `kty`, `x` in lexicographic order with no whitespace (RFC 7638 §3.2, RFC 8037 §2).
 */
export async function jwkThumbprint(jwk: { crv: string; kty: string; x: string }): Promise<string> {
  const canonical = `{"crv":${JSON.stringify(jwk.crv)},"kty":${JSON.stringify(jwk.kty)},"x":${JSON.stringify(jwk.x)}}`;
  return toBase64Url(await sha256(utf8Bytes(canonical)));
}

const THUMBPRINT_URN = "urn:ietf:params:oauth:jwk-thumbprint:sha-256:";

/** A pinned thumbprint, bare base64url or as an RFC 9278 URN; null when it is neither. */
export function parseThumbprint(raw: string): string | null {
  const value = raw.startsWith(THUMBPRINT_URN) ? raw.slice(THUMBPRINT_URN.length) : raw;
  return /^[A-Za-z0-9_-]{43}$/.test(value) ? value : null;
}

/**
 * GETs a small JSON document with a timeout, reading at most `limit` bytes. Null on 404 (the
 * document does not exist, e.g. the next root version); any other failure throws `code`.
 */
export async function fetchSmallJson(
  fetcher: typeof fetch,
  url: string,
  options: { timeoutMs: number; limit: number; code: "jwks_unavailable" | "root_unavailable" },
): Promise<unknown | null> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  try {
    const res = await fetcher(url, { headers: { Accept: "application/json" }, signal: controller.signal });
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new ConfigClientError(options.code, `${url} answered ${res.status}`, { status: res.status });
    }
    const declared = Number(res.headers.get("Content-Length"));
    if (declared > options.limit) {
      await res.body?.cancel();
      throw new ConfigClientError(options.code, `${url} is larger than ${options.limit} bytes`);
    }
    const bytes = await readWithin(res.body, options.limit);
    if (bytes === null)
      throw new ConfigClientError(options.code, `${url} is larger than ${options.limit} bytes`);
    try {
      return JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
    } catch {
      throw new ConfigClientError(options.code, `${url} is not JSON`);
    }
  } catch (error) {
    if (error instanceof ConfigClientError) throw error;
    throw new ConfigClientError(options.code, `cannot fetch ${url}: ${String(error)}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}
