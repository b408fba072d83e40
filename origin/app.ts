/**
 * Builds the origin's Hono app: request ids and logging, services from the parsed configuration,
 * admin authentication on the whole `/v1` API, the route modules, and the one error handler that
 * renders every failure as problem+json (RFC 9457).
 */
import { Hono } from "hono";
import { problemErrorHandler, problemNotFound, requestContext } from "../core";
import type { OriginApp } from "./app-env";
import { adminAuth } from "./middleware/admin-auth";
import { init } from "./middleware/init";
import { registerNamespace } from "./middleware/register-namespace";
import { auditRoutes } from "./routes/audit";
import { configRoutes } from "./routes/configs";
import { fleetRoutes } from "./routes/fleet";
import { healthRoutes } from "./routes/health";
import { internalFleetRoutes } from "./routes/internal-fleet";
import { internalHeadRoutes } from "./routes/internal-heads";
import { namespaceRoutes } from "./routes/namespaces";
import { schemaRoutes } from "./routes/schemas";
import { statusRoutes } from "./routes/status";
import { tokenRoutes } from "./routes/tokens";

export function newApp(): Hono<OriginApp> {
  const app = new Hono<OriginApp>();
  app.use("*", requestContext("origin"));
  app.use("*", init());
  app.route("/", healthRoutes());
  app.route("/", internalFleetRoutes());
  app.route("/", internalHeadRoutes());
  app.use("/v1/*", adminAuth());
  app.use("/v1/*", registerNamespace());
  app.route("/v1/status", statusRoutes());
  // Before configRoutes: `…/fleet` is the fleet view of the key before it (routes/fleet.ts).
  app.route("/v1/configs", fleetRoutes());
  app.route("/v1/configs", configRoutes());
  app.route("/v1/namespaces", namespaceRoutes());
  app.route("/v1/schemas", schemaRoutes());
  app.route("/v1/tokens", tokenRoutes());
  app.route("/v1/audit", auditRoutes());
  app.notFound(problemNotFound);
  app.onError(problemErrorHandler("origin"));
  return app;
}
