/**
 * `/v1/bundles/{namespace}/{name}` (DESIGN §8, docs/bundles.md): a bundle's definition. PUT
 * defines or redefines it (`publish:{namespace}`; every key must be a live key of the namespace,
 * else 422 `unknown_member`), GET shows it with its current manifest (`read:{namespace}`). The
 * edge serves the signed manifest itself at the same path.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { annotate, FleetconfError, parseBundleName, parseKey, parseNamespace } from "../../core";
import { BundleDocument, BundleRequest } from "../contract";
import { strictJsonBody } from "../http/body";
import { declaredRoutes, parsedBy, problems } from "../http/declared-routes";
import { unwrap } from "../http/store-call";
import { requireScope } from "../middleware/admin-auth";
import type { BundleView } from "../store/bundle-tables";

const BundleParams = z.object({
  namespace: parsedBy(parseNamespace).openapi({
    param: { name: "namespace", in: "path" },
    example: "payments",
  }),
  name: parsedBy(parseBundleName).openapi({
    param: { name: "name", in: "path" },
    description: "One segment, `[a-z0-9][a-z0-9._-]{0,63}`.",
    example: "checkout",
  }),
});

const putRoute = createRoute({
  method: "put",
  path: "/v1/bundles/{namespace}/{name}",
  summary: "Define or redefine a bundle: a named set of keys served as one signed manifest",
  middleware: [strictJsonBody()] as const,
  request: {
    params: BundleParams,
    body: { required: true, content: { "application/json": { schema: BundleRequest } } },
  },
  responses: {
    200: {
      description: "The bundle after the definition.",
      content: { "application/json": { schema: BundleDocument } },
    },
    ...problems(413, 415, 422),
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/v1/bundles/{namespace}/{name}",
  summary: "A bundle's definition and current manifest",
  request: { params: BundleParams },
  responses: {
    200: { description: "The bundle.", content: { "application/json": { schema: BundleDocument } } },
    ...problems(404),
  },
});

/** Each key valid, of the bundle's namespace, named once. */
function bundleKeys(namespace: string, keys: readonly string[]): string[] {
  const seen = new Set<string>();
  return keys.map((raw, index) => {
    const parsed = parseKey(raw);
    const refuse = (detail: string): never => {
      throw new FleetconfError(parsed.ok ? "invalid_request" : "invalid_key", detail, {
        extensions: { errors: [{ pointer: `/keys/${index}`, detail }] },
      });
    };
    if (!parsed.ok) return refuse(`Invalid key: ${parsed.reason}.`);
    if (parsed.value.namespace !== namespace) return refuse(`${raw} is not a key of namespace ${namespace}.`);
    if (seen.has(raw)) return refuse(`${raw} is named twice.`);
    seen.add(raw);
    return raw;
  });
}

function bundleDocument(view: BundleView) {
  return { ...view, updatedAt: new Date(view.updatedAt).toISOString() };
}

export function bundleRoutes() {
  return declaredRoutes()
    .openapi(putRoute, async (c) => {
      const { namespace, name } = c.req.valid("param");
      annotate(c, { namespace, bundle: name });
      requireScope(c, { action: "publish", namespace });
      const keys = bundleKeys(namespace, c.req.valid("json").keys);
      const outcome = unwrap(
        await c
          .get("services")
          .store(namespace)
          .putBundle({ namespace, name, keys, actor: c.get("caller").sub }),
      );
      annotate(c, {
        version: outcome.view.version,
        changed: outcome.changed,
        distribution: outcome.distribution,
      });
      c.header("Cache-Control", "no-store");
      return c.json({ ...bundleDocument(outcome.view), distribution: outcome.distribution }, 200);
    })
    .openapi(getRoute, async (c) => {
      const { namespace, name } = c.req.valid("param");
      annotate(c, { namespace, bundle: name });
      requireScope(c, { action: "read", namespace });
      const view = unwrap(await c.get("services").store(namespace).bundle(namespace, name));
      c.header("Cache-Control", "no-store");
      return c.json(bundleDocument(view), 200);
    });
}
