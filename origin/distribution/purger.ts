/**
 * Clearing the edge caches after a change. Two implementations, chosen by PURGE_MODE:
 * `service` calls the edge's internal purge route through the EDGE service binding (local
 * development, and a single-location setup); `zone` purges by Cache-Tag through Cloudflare's zone
 * purge API (production, every location). Any failure throws, so the drain retries later.
 */
import type { PurgeSettings } from "../config";
import { ServiceBindingPurger } from "./service-purger";
import { ZonePurger } from "./zone-purger";

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

export function purgerFor(settings: PurgeSettings, env: { EDGE?: Fetcher }): Purger {
  switch (settings.mode) {
    case "service": {
      if (!env.EDGE) throw new PurgeError("PURGE_MODE=service but the EDGE binding is missing");
      return new ServiceBindingPurger(env.EDGE, settings.secret);
    }
    case "zone":
      return new ZonePurger({
        zoneId: settings.zoneId,
        apiToken: settings.apiToken,
        apiBase: settings.apiBase,
      });
  }
}
