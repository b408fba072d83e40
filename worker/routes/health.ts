/** `GET /healthz`: liveness and the build's version, never cached. */
import { Hono } from "hono";
import type { EdgeHonoEnv } from "../app-env";

export function healthRoutes(): Hono<EdgeHonoEnv> {
  const routes = new Hono<EdgeHonoEnv>();
  routes.get("/healthz", (c) => {
    c.header("Cache-Control", "no-store");
    return c.json({ ok: true, part: "edge", version: c.get("services").buildVersion });
  });
  return routes;
}
