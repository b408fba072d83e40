/** Cache-Control and Cache-Status values (RFC 9111 §5.2, RFC 5861, RFC 9211). */
import type { NamespaceSettings } from "./snapshot";

export const IMMUTABLE_MAX_AGE = 31536000;

export function headCacheControl(settings: NamespaceSettings): string {
  const scope = settings.visibility === "public" ? "public" : "private";
  return `${scope}, max-age=${settings.maxAge}, stale-while-revalidate=${settings.staleWhileRevalidate}, stale-if-error=${settings.staleIfError}`;
}

/**
 * Cache-Control of the current version while a rollout runs: the answer depends on the caller's
 * `Config-Client-Id`, and a shared cache could hand one cohort's version to another (many ignore
 * `Vary`), so it is `private` whatever the namespace's visibility (RFC 9111 §5.2.2.7). The
 * client's own cache may keep it: its cohort does not change with time, only grows.
 */
export function rolloutCacheControl(settings: NamespaceSettings): string {
  return `private, max-age=${settings.maxAge}, stale-while-revalidate=${settings.staleWhileRevalidate}, stale-if-error=${settings.staleIfError}`;
}

export function versionCacheControl(settings: NamespaceSettings): string {
  const scope = settings.visibility === "public" ? "public" : "private";
  return `${scope}, max-age=${IMMUTABLE_MAX_AGE}, immutable`;
}

/** The edge's cache name in Cache-Status (RFC 9211 §2): one cache, the tier goes in `detail`. */
export const EDGE_CACHE_NAME = "fleetconf-edge";

/**
 * Which tier answered: isolate memory, the location's Cache API, KV, or (for a head) the origin's
 * Durable Object read through the edge's service binding (docs/delivery.md).
 */
export type CacheTier = "memory" | "cache" | "kv" | "origin";

/**
 * Builds the edge's Cache-Status member (RFC 9211), e.g.
 * - `fleetconf-edge; hit; ttl=3; detail=memory` — fresh, from isolate memory or (`detail=cache`) the Cache API;
 * - `fleetconf-edge; fwd=miss; ttl=5; detail=kv` — not cached in this location, read from KV;
 * - `fleetconf-edge; hit; fwd=stale; ttl=-4; detail=memory` — past max-age, served while a
 *   refresh runs in the background (stale-while-revalidate);
 * - `fleetconf-edge; hit; fwd=stale; ttl=-40; detail=memory/kv-timeout` — past max-age, the refresh
 *   failed (the reason follows the tier), served under stale-if-error.
 * `ttl` (§2.5) is the remaining freshness in whole seconds, negative when stale. `detail` (§2.8) is
 * an sf-token, so `/` joins the tier and the upstream failure.
 */
export function cacheStatus(
  tier: CacheTier,
  options: { stale?: boolean; error?: string; ttl?: number } = {},
): string {
  let value = EDGE_CACHE_NAME;
  value += tier === "kv" || tier === "origin" ? "; fwd=miss" : options.stale ? "; hit; fwd=stale" : "; hit";
  if (options.ttl !== undefined) value += `; ttl=${Math.floor(options.ttl)}`;
  value += `; detail=${tier}`;
  if (options.error) value += `/${options.error}`;
  return value;
}
