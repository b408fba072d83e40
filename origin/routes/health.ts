/**
 * Unauthenticated routes: `GET /healthz` (liveness, the build's version; it answers only once the
 * configuration parsed, so a misconfigured origin is visibly unhealthy) and
 * `GET /.well-known/jwks.json`, the public keys that verify snapshots and read tokens.
 */
import { Hono } from "hono";
import type { OriginApp } from "../app-env";

export function healthRoutes(): Hono<OriginApp> {
  const routes = new Hono<OriginApp>();
  routes.get("/healthz", (c) => {
    c.header("Cache-Control", "no-store");
    return c.json({ ok: true, part: "origin", version: c.get("services").config.buildVersion });
  });
  routes.get("/.well-known/jwks.json", (c) => {
    const { keys } = c.get("services").config.publicJwks;
    // RFC 7517 §8.5: the JWK Set media type. Short-lived in caches so a key rotation shows quickly.
    return c.body(JSON.stringify({ keys }), 200, {
      "Content-Type": "application/jwk-set+json",
      "Cache-Control": "public, max-age=300",
    });
  });
  return routes;
}
