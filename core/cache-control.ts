/** Cache-Control and Cache-Status values (RFC 9111 §5.2, RFC 5861, RFC 9211). */
import type { NamespaceSettings } from "./snapshot";

export const IMMUTABLE_MAX_AGE = 31536000;

export function headCacheControl(settings: NamespaceSettings): string {
  const scope = settings.visibility === "public" ? "public" : "private";
  return `${scope}, max-age=${settings.maxAge}, stale-while-revalidate=${settings.staleWhileRevalidate}, stale-if-error=${settings.staleIfError}`;
}

export function versionCacheControl(settings: NamespaceSettings): string {
  const scope = settings.visibility === "public" ? "public" : "private";
  return `${scope}, max-age=${IMMUTABLE_MAX_AGE}, immutable`;
}

/** Which tier answered, as a Cache-Status cache name (RFC 9211 §2). */
export type CacheTier = "memory" | "cache" | "kv";

/**
 * Builds a Cache-Status value. Hits from memory or the Cache API are `hit`; an answer fetched
 * from KV is `fwd=miss`; a stale answer carries `fwd=stale` or, when upstream failed, the
 * `detail` of what failed.
 */
export function cacheStatus(
  tier: CacheTier,
  options: { stale?: boolean; error?: string; ttl?: number } = {},
): string {
  const parts = [`fleetconf-edge-${tier}`];
  if (tier === "kv") parts.push("fwd=miss");
  else parts.push("hit");
  if (options.stale) parts.push("fwd=stale");
  if (options.ttl !== undefined) parts.push(`ttl=${Math.round(options.ttl)}`);
  if (options.error) parts.push(`detail="${options.error}"`);
  return parts.join("; ");
}
