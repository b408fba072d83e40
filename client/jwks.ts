/**
 * Where a client gets the public keys that verify snapshot signatures: a JWKS pinned by the
 * caller (strongest: the edge cannot change what the client trusts), or one fetched once from
 * `jwksUrl` and refetched only when a signature names an unknown `kid` — at most once per
 * `refetchMinMs`, so a stream of bogus kids cannot turn every poll into a JWKS download.
 */
import { type Jwks, type PublicJwk, type SignatureCheck, verifySnapshot } from "../core/jws";
import { ConfigClientError } from "./errors";

export const DEFAULT_JWKS_REFETCH_MIN_MS = 60_000;

export interface KeySource {
  /**
   * Verifies a detached snapshot signature. `fallback` is used only when no JWKS could be
   * fetched at all (a cache file's copy, so a client can start while the edge is down).
   */
  verify(signature: string, body: Uint8Array, fallback?: Jwks): Promise<SignatureCheck>;
  /** The JWKS currently trusted, for persisting beside a cached snapshot; null when pinned. */
  fetchedJwks(): Jwks | null;
}

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

export function pinnedKeySource(jwks: Jwks): KeySource {
  const cache = new Map<string, CryptoKey>();
  return {
    verify: (signature, body) => verifySnapshot(signature, body, jwks, cache),
    fetchedJwks: () => null,
  };
}

export function remoteKeySource(options: {
  url: string;
  fetch: typeof fetch;
  refetchMinMs: number;
  timeoutMs: number;
  now: () => number;
}): KeySource {
  let jwks: Jwks | null = null;
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<Jwks> | null = null;
  const cache = new Map<string, CryptoKey>();

  async function download(): Promise<Jwks> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.timeoutMs);
    try {
      const res = await options.fetch(options.url, {
        headers: { Accept: "application/json" },
        signal: controller.signal,
      });
      if (res.status !== 200) {
        throw new ConfigClientError("jwks_unavailable", `JWKS ${options.url} answered ${res.status}`, {
          status: res.status,
        });
      }
      const parsed = parseJwks(await res.json());
      if (!parsed) throw new ConfigClientError("jwks_unavailable", `${options.url} is not a JWKS`);
      return parsed;
    } catch (error) {
      if (error instanceof ConfigClientError) throw error;
      throw new ConfigClientError("jwks_unavailable", `cannot fetch JWKS ${options.url}: ${String(error)}`, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  // Single flight: concurrent verifications share one download.
  function refresh(): Promise<Jwks> {
    inFlight ??= download()
      .then((fresh) => {
        jwks = fresh;
        cache.clear();
        return fresh;
      })
      .finally(() => {
        fetchedAt = options.now();
        inFlight = null;
      });
    return inFlight;
  }

  return {
    async verify(signature, body, fallback) {
      let keys = jwks;
      if (!keys) {
        try {
          keys = await refresh();
        } catch (error) {
          if (!fallback) throw error;
          return verifySnapshot(signature, body, fallback);
        }
      }
      const first = await verifySnapshot(signature, body, keys, cache);
      if (first.ok || first.code !== "unknown_kid") return first;
      if (options.now() - fetchedAt < options.refetchMinMs) return first;
      // A kid we do not know: the origin may have rotated its key. Look once more; if the JWKS
      // cannot be fetched now, the unknown kid is still the better explanation to report.
      let fresh: Jwks;
      try {
        fresh = await refresh();
      } catch {
        return first;
      }
      return verifySnapshot(signature, body, fresh, cache);
    },
    fetchedJwks: () => jwks,
  };
}
