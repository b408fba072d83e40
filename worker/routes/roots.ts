/**
 * `GET /.well-known/fleetconf-root.json[?version=N]` (DESIGN §8, trust root): the signed root
 * documents the origin stored (`PUT /v1/roots/{N}`) and wrote to KV. Clients pin one root out of
 * band and walk N+1, N+2 … from here, accepting each only with a threshold of signatures by the
 * root before it (core/trust-root.ts) — so the edge serving them needs no trust at all: a forged
 * or replaced document fails the client's check. `?version=N` is immutable; the unversioned
 * document names the newest and is cached one minute.
 */
import { Hono } from "hono";
import { FleetconfError, kvKeys, MAX_ROOT_BYTES, parseVersion } from "../../core";
import type { EdgeHonoEnv } from "../app-env";

export const ROOT_PATH = "/.well-known/fleetconf-root.json";
const LATEST_CACHE_CONTROL = "public, max-age=60";
const VERSION_CACHE_CONTROL = "public, max-age=31536000, immutable";

export function rootRoutes(): Hono<EdgeHonoEnv> {
  const routes = new Hono<EdgeHonoEnv>();
  routes.get(ROOT_PATH, async (c) => {
    const raw = c.req.query("version");
    const version = raw === undefined ? null : parseVersion(raw);
    const name = version === null ? kvKeys.rootLatest : kvKeys.root(version);
    // KV's own edge cache for a minute: roots change a few times a year.
    const text = await c.env.CONFIGS.get(name, { cacheTtl: 60 });
    if (text === null || text.length > MAX_ROOT_BYTES) {
      throw new FleetconfError(
        "not_found",
        version === null ? "No trust root has been published." : `Root version ${version} does not exist.`,
      );
    }
    return new Response(text, {
      headers: {
        "Content-Type": "application/json",
        "Cache-Control": version === null ? LATEST_CACHE_CONTROL : VERSION_CACHE_CONTROL,
      },
    });
  });
  routes.all(ROOT_PATH, () => {
    throw new FleetconfError("method_not_allowed", "The root is read with GET.", {
      headers: { Allow: "GET, HEAD" },
    });
  });
  return routes;
}
