/**
 * Builds the edge's services once per app (one app per isolate in production) and exposes them
 * as `c.get("services")`. A failed build (say, a malformed PUBLIC_JWKS) is retried on the next
 * request rather than cached, and surfaces as a logged 500.
 */
import type { MiddlewareHandler } from "hono";
import type { EdgeHonoEnv } from "../app-env";
import type { EdgeEnv } from "../env";
import { buildServices, type EdgeServiceOptions, type EdgeServices } from "../services";

export function services(options: EdgeServiceOptions = {}): MiddlewareHandler<EdgeHonoEnv> {
  let built: EdgeServices | undefined;
  let building: Promise<EdgeServices> | undefined;
  const build = (env: EdgeEnv): Promise<EdgeServices> => {
    building ??= buildServices(env, options).then(
      (ready) => {
        built = ready;
        return ready;
      },
      (error: unknown) => {
        building = undefined;
        throw error;
      },
    );
    return building;
  };
  return async function services(c, next) {
    c.set("services", built ?? (await build(c.env)));
    await next();
  };
}
