/**
 * Builds the origin's Hono app: request ids and logging, services from the parsed configuration,
 * admin authentication on the whole `/v1` API, the declared route modules (each route once, with
 * its validators: http/declared-routes.ts), the OpenAPI document generated from them, and the one
 * error handler that renders every failure as problem+json (RFC 9457).
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import {
  FleetconfError,
  problemErrorHandler,
  problemNotFound,
  problemResponse,
  requestContext,
} from "../core";
import type { OriginApp } from "./app-env";
import { consoleRoutes } from "./console/routes";
import { adminAuth } from "./middleware/admin-auth";
import { init } from "./middleware/init";
import { rawKeyPath } from "./middleware/raw-key-path";
import { registerNamespace } from "./middleware/register-namespace";
import { auditRoutes } from "./routes/audit";
import { bundleRoutes } from "./routes/bundles";
import { changeRequestRoutes } from "./routes/change-requests";
import { changeRoutes } from "./routes/changes";
import { configMethodFallback, configRoutes } from "./routes/configs";
import { diffRoutes } from "./routes/diff";
import { fleetRoutes } from "./routes/fleet";
import { healthRoutes } from "./routes/health";
import { internalFleetRoutes } from "./routes/internal-fleet";
import { internalHeadRoutes } from "./routes/internal-heads";
import { namespaceRoutes } from "./routes/namespaces";
import { openapiRoutes } from "./routes/openapi";
import { redactionRoutes } from "./routes/redaction";
import { rolloutRoutes } from "./routes/rollouts";
import { rootRoutes } from "./routes/roots";
import { schemaRoutes } from "./routes/schemas";
import { statusRoutes } from "./routes/status";
import { tokenRoutes } from "./routes/tokens";
import { versionRoutes } from "./routes/versions";

/** The admin API's routes, declared with their schemas: what `/openapi.json` is generated from. */
export function adminRoutes() {
  return new OpenAPIHono<OriginApp>()
    .route("/", configRoutes())
    .route("/", versionRoutes())
    .route("/", redactionRoutes())
    .route("/", rolloutRoutes())
    .route("/", diffRoutes())
    .route("/", fleetRoutes())
    .route("/", configMethodFallback())
    .route("/", namespaceRoutes())
    .route("/", schemaRoutes())
    .route("/", changeRoutes())
    .route("/", changeRequestRoutes())
    .route("/", bundleRoutes())
    .route("/", tokenRoutes())
    .route("/", rootRoutes())
    .route("/", auditRoutes())
    .route("/", statusRoutes());
}

const renderProblem = problemErrorHandler("origin");

export function newApp(): OpenAPIHono<OriginApp> {
  const app = new OpenAPIHono<OriginApp>();
  app.use("*", requestContext("origin"));
  app.use("*", init());
  app.route("/", healthRoutes());
  app.route("/", internalFleetRoutes());
  app.route("/", internalHeadRoutes());
  const admin = adminRoutes();
  app.route("/", openapiRoutes(admin));
  // The web console calls this same app in-process with the signed-in token (console/api.ts).
  app.route(
    "/console",
    consoleRoutes((c) => async (request) => app.fetch(request, c.env, c.executionCtx)),
  );
  app.use("/v1/*", adminAuth());
  app.use("/v1/*", registerNamespace());
  app.use("/v1/configs/*", rawKeyPath());
  app.use("/v1/schemas/*", rawKeyPath());
  app.route("/", admin);
  app.notFound(problemNotFound);
  app.onError((error, c) => {
    // Hono's own refusals (a body media type its validator does not take): the status as a problem.
    if (error instanceof HTTPException && error.status === 415) {
      return problemResponse(
        new FleetconfError(
          "unsupported_media_type",
          "The body must be JSON: send Content-Type: application/json.",
        ),
        c.get("requestId"),
      );
    }
    return renderProblem(error, c);
  });
  return app;
}
