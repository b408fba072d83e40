/**
 * Clearing the edge caches after a change. Two implementations, chosen by PURGE_MODE:
 * `service` calls the edge's internal purge route through the EDGE service binding (local
 * development, and a single-location setup); `zone` purges by Cache-Tag through Cloudflare's zone
 * purge API (production, every location). Any failure throws, so the drain retries later.
 * purger-for.ts picks one.
 */

export interface PurgeRequest {
  keys: string[];
  namespaces: string[];
}

export interface Purger {
  /** Resolves once every listed key and namespace is purged; throws otherwise. */
  purge(request: PurgeRequest): Promise<void>;
}

export class PurgeError extends Error {
  override readonly name = "PurgeError";
}
