/**
 * Builds the edge app: request ids and log lines, the services, the four route modules, and one
 * error handler rendering problem+json. Tests build their own app with options (clock, KV
 * wrapper, memory budget) and call `app.fetch(request, env, ctx)` against the real bindings.
 */
import { type Context, Hono } from "hono";
import { problemErrorHandler, problemNotFound } from "../core";
import type { EdgeHonoEnv } from "./app-env";
import type { TelemetryOptions } from "./metrics/telemetry";
import { edgeRequest } from "./middleware/edge-request";
import { configRoutes } from "./routes/configs";
import { healthRoutes } from "./routes/health";
import { jwksRoutes } from "./routes/jwks";
import { ofrepRoutes } from "./routes/ofrep";
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
  app.use("*", edgeRequest({ ...options, log: options.log ?? true, sampleRate: hitSampleRate() }));
  app.route("/", healthRoutes());
  app.route("/", jwksRoutes());
  app.route("/", configRoutes());
  app.route("/", purgeRoutes());
  app.route("/", ofrepRoutes());
  app.notFound(problemNotFound);
  app.onError(problemErrorHandler("edge"));
  return app;
}

export const DEFAULT_LOG_HIT_SAMPLE = 100;
const SAMPLE = /^[1-9][0-9]{0,6}$/;

/**
 * Which request lines to sample (docs/operations.md, "Logs"): a fresh 200/304 from isolate memory
 * is most of the traffic and says nothing the metrics line does not, yet writing its line cost
 * more than the rest of the request (BENCHMARKS.md §1b). Those are logged 1 in LOG_HIT_SAMPLE;
 * errors, misses, stale answers, purges and every other route are always logged.
 */
function hitSampleRate(): (c: Context<EdgeHonoEnv>) => number {
  let parsed: { raw: string | undefined; rate: number } | undefined;
  return (c) => {
    const served = c.get("served");
    if (served === undefined || served.tier !== "memory" || served.stale) return 1;
    const status = c.res.status;
    if (status !== 200 && status !== 304) return 1;
    const raw = c.env?.LOG_HIT_SAMPLE;
    if (parsed === undefined || parsed.raw !== raw) {
      const trimmed = raw?.trim() ?? "";
      parsed = { raw, rate: SAMPLE.test(trimmed) ? Number(trimmed) : DEFAULT_LOG_HIT_SAMPLE };
    }
    return parsed.rate;
  };
}
