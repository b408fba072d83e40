/**
 * The purger PURGE_MODE names (config.ts parses it). Apart from purger.ts, which the two purgers
 * import for its interface and error: the factory importing them back made an import cycle.
 */
import type { PurgeSettings } from "../config";
import { PurgeError, type Purger } from "./purger";
import { ServiceBindingPurger } from "./service-purger";
import { ZonePurger } from "./zone-purger";

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
