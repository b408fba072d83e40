/**
 * `GET|HEAD /v1/bundles/{namespace}/{name}[?version=N]` (DESIGN §8): a bundle's signed manifest
 * `{"bundle", "version", "members": {key: {"version", "digest"}}}`. The origin writes it to KV
 * as a config under the pseudo-key `bundle:{namespace}/{name}` (core/bundles.ts), so it is
 * answered by the config route's own machinery — tiers, ETag/304, Content-Digest, the signature
 * whose `key` is the pseudo-key, the namespace's Cache-Control and read tokens, and long-poll
 * (`Prefer: wait`) — and one conditional GET tells a client which member versions form a set.
 */
import { Hono } from "hono";
import { bundleRef, FleetconfError, rawPath } from "../../core";
import type { EdgeHonoEnv } from "../app-env";
import { parseVersionQuery } from "../http/config-target";
import { serveTarget } from "./configs";

export const BUNDLES_PREFIX = "/v1/bundles/";

export function bundleRoutes(): Hono<EdgeHonoEnv> {
  const routes = new Hono<EdgeHonoEnv>();
  routes.get("/v1/bundles/*", (c) => {
    const startedAt = performance.now();
    const url = c.req.url;
    const parts = rawPath(url).slice(BUNDLES_PREFIX.length).split("/");
    if (parts.length !== 2)
      throw new FleetconfError("invalid_key", "A bundle is read at /v1/bundles/{namespace}/{name}.");
    const ref = bundleRef(parts[0] ?? "", parts[1] ?? "");
    return serveTarget(c, {
      key: { key: ref.key, namespace: ref.namespace, segments: [ref.namespace, ref.name] },
      version: url.includes("?") ? parseVersionQuery(c.req.queries("version")) : null,
      // A manifest has no rollouts: every client gets the same one.
      clientId: null,
      startedAt,
    });
  });
  routes.all("/v1/bundles/*", () => {
    throw new FleetconfError("method_not_allowed", "Bundles are read with GET or HEAD at the edge.", {
      headers: { Allow: "GET, HEAD" },
    });
  });
  return routes;
}
