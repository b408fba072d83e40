/**
 * Builds the edge app: request ids and log lines, the services, the four route modules, and one
 * error handler rendering problem+json. Tests build their own app with options (clock, KV
 * wrapper, memory budget) and call `app.fetch(request, env, ctx)` against the real bindings.
 */
import { Hono } from "hono";
import { problemErrorHandler, problemNotFound, requestContext } from "../core";
import type { EdgeHonoEnv } from "./app-env";
import { services } from "./middleware/services";
import { type TelemetryOptions, telemetry } from "./middleware/telemetry";
import { configRoutes } from "./routes/configs";
import { healthRoutes } from "./routes/health";
import { jwksRoutes } from "./routes/jwks";
import { purgeRoutes } from "./routes/purge";
import type { EdgeServiceOptions } from "./services";

export interface EdgeAppOptions extends EdgeServiceOptions {
  /** One JSON log line per request (default true); tests turn it off to keep output readable. */
  log?: boolean;
  /** Fleet recording and metrics (tests pass a sink, intervals and an inspector). */
  telemetry?: TelemetryOptions;
}

export function newApp(options: EdgeAppOptions = {}): Hono<EdgeHonoEnv> {
  const app = new Hono<EdgeHonoEnv>();
  app.use("*", requestContext("edge", { log: options.log ?? true }));
  app.use("*", telemetry(options.telemetry));
  app.use("*", services(options));
  app.route("/", healthRoutes());
  app.route("/", jwksRoutes());
  app.route("/", configRoutes());
  app.route("/", purgeRoutes());
  app.notFound(problemNotFound);
  app.onError(problemErrorHandler("edge"));
  return app;
}
