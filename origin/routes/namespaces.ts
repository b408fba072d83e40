/**
 * `/v1/namespaces/{namespace}`: who may read without a token and the edge's Cache-Control numbers
 * (DESIGN §4). PUT is a partial update and needs the `admin` scope; GET needs read access. A
 * change is stored, audited, written to KV as `ns/{namespace}` and purged from the edge caches.
 */
import { createRoute, z } from "@hono/zod-openapi";
import {
  annotate,
  DEFAULT_APPROVAL_TTL,
  DEFAULT_FRESHNESS_TTL,
  type NamespaceSettings,
  parseNamespace,
} from "../../core";
import { NamespaceDocument, SettingsPatch } from "../contract";
import { strictJsonBody } from "../http/body";
import { declaredRoutes, parsedBy, problems } from "../http/declared-routes";
import { unwrap } from "../http/store-call";
import { requireScope, routeScope } from "../middleware/admin-auth";

export const NamespaceParams = z.object({
  namespace: parsedBy(parseNamespace).openapi({
    param: { name: "namespace", in: "path" },
    description: "A namespace: one key segment, `[a-z0-9][a-z0-9._-]{0,63}`.",
    example: "payments",
  }),
});

const readRoute = createRoute({
  method: "get",
  path: "/v1/namespaces/{namespace}",
  summary: "A namespace's visibility and Cache-Control numbers",
  request: { params: NamespaceParams },
  responses: {
    200: { description: "The settings.", content: { "application/json": { schema: NamespaceDocument } } },
    ...problems(),
  },
});

const updateRoute = createRoute({
  method: "put",
  path: "/v1/namespaces/{namespace}",
  summary: "Update a namespace's settings (a partial update)",
  middleware: [routeScope({ action: "admin" }), strictJsonBody()] as const,
  request: {
    params: NamespaceParams,
    body: { required: true, content: { "application/json": { schema: SettingsPatch } } },
  },
  responses: {
    200: {
      description: "The settings after the update.",
      content: {
        "application/json": {
          schema: NamespaceDocument.extend({ distribution: z.enum(["complete", "pending"]) }),
        },
      },
    },
    ...problems(409, 413, 415),
  },
});

function settingsDocument(namespace: string, settings: NamespaceSettings) {
  return {
    namespace,
    visibility: settings.visibility,
    maxAge: settings.maxAge,
    staleWhileRevalidate: settings.staleWhileRevalidate,
    staleIfError: settings.staleIfError,
    freshnessTtl: settings.freshnessTtl ?? DEFAULT_FRESHNESS_TTL,
    approval: settings.approval ?? "none",
    approvalTtl: settings.approvalTtl ?? DEFAULT_APPROVAL_TTL,
  };
}

export function namespaceRoutes() {
  return declaredRoutes()
    .openapi(readRoute, async (c) => {
      const { namespace } = c.req.valid("param");
      annotate(c, { namespace });
      requireScope(c, { action: "read", namespace });
      const settings = await c.get("services").store(namespace).settings();
      c.header("Cache-Control", "no-store");
      return c.json(settingsDocument(namespace, settings), 200);
    })
    .openapi(updateRoute, async (c) => {
      const { namespace } = c.req.valid("param");
      annotate(c, { namespace });
      const outcome = unwrap(
        await c
          .get("services")
          .store(namespace)
          .updateSettings(namespace, c.req.valid("json"), c.get("caller").sub),
      );
      annotate(c, { changed: outcome.changed, distribution: outcome.distribution });
      c.header("Cache-Control", "no-store");
      return c.json(
        { ...settingsDocument(namespace, outcome.settings), distribution: outcome.distribution },
        200,
      );
    });
}
