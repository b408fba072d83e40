/**
 * What the tiers hold. Heads and namespace settings are mutable upstream, so each entry carries
 * the time it was read from KV (`fetchedAt`): its age decides fresh / stale-while-revalidate /
 * stale-if-error, in whichever tier it is found. Snapshots are immutable and never age.
 */
import {
  type HeadRecord,
  headCacheControl,
  type NamespaceSettings,
  rolloutCacheControl,
  versionCacheControl,
} from "../../core";

export interface TimedEntry {
  /** When this value was read from KV, in the edge clock's milliseconds. */
  readonly fetchedAt: number;
  /** Set by a purge: never served as fresh or stale-while-revalidate, only under stale-if-error. */
  readonly mustRevalidate?: boolean;
}

export interface HeadEntry extends TimedEntry {
  /** The head, or null when the key was never published (cached like a head: a negative entry). */
  readonly head: HeadRecord | null;
}

export interface SettingsEntry extends TimedEntry {
  readonly settings: NamespaceSettings;
  /** The numbers this entry itself ages by (settingsTiming): short whatever the namespace says. */
  readonly timing: NamespaceSettings;
  /** Cache-Control values for this namespace, built once per entry rather than per request. */
  readonly headCacheControl: string;
  readonly versionCacheControl: string;
  /** For the current version while a rollout runs: always `private` (docs/rollouts.md). */
  readonly rolloutCacheControl: string;
}

/** Seconds a namespace's settings entry is fresh at the edge, whatever the namespace's maxAge. */
export const SETTINGS_MAX_AGE_SECONDS = 5;
/** And how long past that it may still be served while it is refreshed in the background. */
export const SETTINGS_MAX_SWR_SECONDS = 10;

/**
 * How a settings entry ages. The namespace's maxAge (up to a year) is how long a config may be
 * cached, not its settings: a public → private flip must take effect in seconds (issue 14), so the
 * entry is fresh for at most 5 s and revalidated in the background for 10 s more; stale-if-error
 * is kept, so a KV outage still serves the last settings read rather than failing every request.
 */
export function settingsTiming(settings: NamespaceSettings): NamespaceSettings {
  return {
    ...settings,
    maxAge: Math.min(settings.maxAge, SETTINGS_MAX_AGE_SECONDS),
    staleWhileRevalidate: Math.min(settings.staleWhileRevalidate, SETTINGS_MAX_SWR_SECONDS),
  };
}

export function settingsEntry(settings: NamespaceSettings, fetchedAt: number): SettingsEntry {
  return Object.freeze({
    settings,
    timing: settingsTiming(settings),
    fetchedAt,
    headCacheControl: headCacheControl(settings),
    versionCacheControl: versionCacheControl(settings),
    rolloutCacheControl: rolloutCacheControl(settings),
  });
}

export function headEntry(head: HeadRecord | null, fetchedAt: number): HeadEntry {
  return Object.freeze({ head, fetchedAt });
}

/** A copy that must be revalidated before it is served again (purge keeps it for stale-if-error). */
export function markedForRevalidation<T extends TimedEntry>(entry: T): T {
  return Object.freeze({ ...entry, mustRevalidate: true });
}

/** Where an entry stands against its namespace's numbers (RFC 9111 §4.2, RFC 5861). */
export type Freshness = "fresh" | "stale-while-revalidate" | "stale-if-error" | "expired";

export function freshnessOf(entry: TimedEntry, settings: NamespaceSettings, nowMs: number): Freshness {
  const staleForMs = nowMs - entry.fetchedAt - settings.maxAge * 1000;
  if (!entry.mustRevalidate) {
    if (staleForMs < 0) return "fresh";
    if (staleForMs <= settings.staleWhileRevalidate * 1000) return "stale-while-revalidate";
  }
  // Past the revalidation window: go upstream, and fall back to this entry only within
  // stale-if-error (RFC 5861 §4), counted like the other windows from the end of freshness.
  return staleForMs <= settings.staleIfError * 1000 ? "stale-if-error" : "expired";
}

/** Remaining freshness in milliseconds; negative when stale (Cache-Status `ttl`). */
export function ttlOf(entry: TimedEntry, settings: NamespaceSettings, nowMs: number): number {
  return settings.maxAge * 1000 - (nowMs - entry.fetchedAt);
}

/** How long the Cache API tier keeps a head or settings entry: as long as it can still be served. */
export function cacheLifetimeSeconds(settings: NamespaceSettings): number {
  return settings.maxAge + Math.max(settings.staleWhileRevalidate, settings.staleIfError);
}
