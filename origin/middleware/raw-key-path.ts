/**
 * Keys are matched on the path exactly as sent. A key character is never `%` (DESIGN §2), while
 * Hono percent-decodes path parameters before validators see them, so `a%2Fb` would become the
 * key `a/b` and `a%2E%2E` the segment `..`. A `%` anywhere in the path of a key route is therefore
 * refused here (400 invalid_key), before the router's decoded parameter can be validated.
 */
import type { MiddlewareHandler } from "hono";
import { FleetconfError, rawPath } from "../../core";
import type { OriginApp } from "../app-env";

export function rawKeyPath(): MiddlewareHandler<OriginApp> {
  return async function rawKeyPath(c, next) {
    if (rawPath(c.req.url).includes("%")) {
      throw new FleetconfError("invalid_key", "Invalid key: keys are sent unencoded and never contain %.");
    }
    await next();
  };
}
