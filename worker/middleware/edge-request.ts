/**
 * The edge's one global middleware: request id, the isolate's services, then, once the response
 * is ready, telemetry (metrics, fleet sightings) and the log line. One layer instead of three,
 * because every async layer is paid on every hot request (BENCHMARKS.md §1b).
 */
import type { Context, MiddlewareHandler } from "hono";
import { beginRequest, problemErrorHandler, type RequestLogOptions, requestLogger } from "../../core";
import type { EdgeHonoEnv } from "../app-env";
import type { EdgeEnv } from "../env";
import { type TelemetryOptions, telemetryObserver } from "../metrics/telemetry";
import { buildServices, type EdgeServiceOptions, type EdgeServices } from "../services";

export interface EdgeRequestOptions extends EdgeServiceOptions, RequestLogOptions {
  telemetry?: TelemetryOptions;
}

const renderProblem = problemErrorHandler("edge");

export function edgeRequest(options: EdgeRequestOptions = {}): MiddlewareHandler<EdgeHonoEnv> {
  const services = servicesOnce(options);
  const telemetry = telemetryObserver(options.telemetry);
  const end = requestLogger("edge", options);
  return async function edgeRequest(c, next) {
    const requestId = beginRequest(c);
    const started = Date.now();
    let ready: EdgeServices | undefined;
    try {
      ready = services.built ?? (await services.build(c.env));
    } catch (error) {
      // A failed build (say, a malformed PUBLIC_JWKS) answers 500 and is retried next request.
      const failure = error instanceof Error ? error : new Error(String(error));
      c.res = await renderProblem(failure, c as unknown as Context);
    }
    if (ready !== undefined) {
      c.set("services", ready);
      c.set("recordHeld", (key, version) => telemetry.recordHeld(c, key, version));
      await next();
    }
    telemetry.observe(c);
    end(c, requestId, started);
  };
}

/** Builds the services once per app (one app per isolate in production); a failed build is not kept. */
function servicesOnce(options: EdgeServiceOptions): {
  built: EdgeServices | undefined;
  build(env: EdgeEnv): Promise<EdgeServices>;
} {
  let building: Promise<EdgeServices> | undefined;
  const state = {
    built: undefined as EdgeServices | undefined,
    build(env: EdgeEnv): Promise<EdgeServices> {
      building ??= buildServices(env, options).then(
        (ready) => {
          state.built = ready;
          return ready;
        },
        (error: unknown) => {
          building = undefined;
          throw error;
        },
      );
      return building;
    },
  };
  return state;
}
