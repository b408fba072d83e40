/**
 * `/v1/namespaces/{namespace}`: who may read without a token and the edge's Cache-Control numbers
 * (DESIGN §4). PUT is a partial update and needs the `admin` scope; GET needs read access. A
 * change is stored, audited, written to KV as `ns/{namespace}` and purged from the edge caches.
 */
import { type Context, Hono } from "hono";
import { annotate, FleetconfError, type NamespaceSettings, parseNamespace } from "../../core";
import type { OriginApp } from "../app-env";
import { optionalInteger, readControlObject } from "../http/body";
import { requireScope } from "../middleware/admin-auth";
import type { SettingsPatch } from "../store/types";

/** One year: RFC 9111 §5.2 leaves max-age open; a cache lifetime beyond a year has no use here. */
export const MAX_CACHE_SECONDS = 31_536_000;
const FIELDS = ["visibility", "maxAge", "staleWhileRevalidate", "staleIfError"] as const;

export function namespaceRoutes(): Hono<OriginApp> {
  const routes = new Hono<OriginApp>();
  routes.get("/:namespace", readSettings);
  routes.put("/:namespace", updateSettings);
  return routes;
}

function settingsDocument(namespace: string, settings: NamespaceSettings) {
  return {
    namespace,
    visibility: settings.visibility,
    maxAge: settings.maxAge,
    staleWhileRevalidate: settings.staleWhileRevalidate,
    staleIfError: settings.staleIfError,
  };
}

async function readSettings(c: Context<OriginApp>): Promise<Response> {
  const namespace = parseNamespace(c.req.param("namespace") ?? "");
  annotate(c, { namespace });
  requireScope(c, { action: "read", namespace });
  const settings = await c.get("services").store(namespace).settings();
  c.header("Cache-Control", "no-store");
  return c.json(settingsDocument(namespace, settings));
}

export function parseSettingsPatch(body: Record<string, unknown>): SettingsPatch {
  const patch: SettingsPatch = {};
  if (body.visibility !== undefined) {
    if (body.visibility !== "public" && body.visibility !== "private") {
      throw new FleetconfError("invalid_request", 'visibility must be "public" or "private".');
    }
    patch.visibility = body.visibility;
  }
  for (const field of ["maxAge", "staleWhileRevalidate", "staleIfError"] as const) {
    const value = optionalInteger(body, field, 0, MAX_CACHE_SECONDS);
    if (value !== undefined) patch[field] = value;
  }
  return patch;
}

async function updateSettings(c: Context<OriginApp>): Promise<Response> {
  const namespace = parseNamespace(c.req.param("namespace") ?? "");
  annotate(c, { namespace });
  requireScope(c, { action: "admin" });
  const patch = parseSettingsPatch(await readControlObject(c.req.raw, FIELDS));
  const outcome = await c
    .get("services")
    .store(namespace)
    .updateSettings(namespace, patch, c.get("caller").sub);
  annotate(c, { changed: outcome.changed, distribution: outcome.distribution });
  c.header("Cache-Control", "no-store");
  return c.json({ ...settingsDocument(namespace, outcome.settings), distribution: outcome.distribution });
}
