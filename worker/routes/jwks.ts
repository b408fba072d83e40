/**
 * `GET /.well-known/jwks.json`: the public keys clients verify snapshots with (and the edge
 * verifies read tokens with), current and retired, each with its `kid` and `purpose`. Built once
 * per isolate; served as `application/jwk-set+json` (RFC 7517 §8.5) and revalidated with If-None-Match.
 */
import { Hono } from "hono";
import { ifNoneMatchHits } from "../../core";
import type { EdgeHonoEnv } from "../app-env";

/** Keys rotate rarely and a retired key stays listed, so five minutes of caching is safe. */
export const JWKS_CACHE_CONTROL = "public, max-age=300, stale-while-revalidate=3600";

export function jwksRoutes(): Hono<EdgeHonoEnv> {
  const routes = new Hono<EdgeHonoEnv>();
  routes.get("/.well-known/jwks.json", (c) => {
    const { body, etag } = c.get("services").jwks;
    const headers = { ETag: etag, "Cache-Control": JWKS_CACHE_CONTROL };
    if (ifNoneMatchHits(c.req.header("If-None-Match"), etag)) {
      return new Response(null, { status: 304, headers });
    }
    return new Response(body, { headers: { ...headers, "Content-Type": "application/jwk-set+json" } });
  });
  return routes;
}
