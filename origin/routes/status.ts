/**
 * `GET /v1/status` (admin): every namespace the origin has changed (NamespaceRegistry) with its
 * keys and live versions, running rollouts, pending distribution (outbox), last publish, recent
 * distribution errors and clients seen at the edge in the last 5 minutes. `?namespace=ns` narrows
 * it to one namespace and then needs only `read:ns`.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { DEFAULT_FLEET_WINDOW_SECONDS, parseNamespace } from "../../core";
import { StatusDocument } from "../contract";
import { declaredRoutes, optionalParsedBy, problems } from "../http/declared-routes";
import { fleetShards, namespaceRegistry } from "../http/ops-stores";
import { requireScope } from "../middleware/admin-auth";
import { activeClientsAcross } from "../store/fleet-shards";

/** Namespaces described per answer; beyond this, ask per namespace. */
export const MAX_STATUS_NAMESPACES = 200;

const statusRoute = createRoute({
  method: "get",
  path: "/v1/status",
  summary: "Every namespace's keys, rollouts, pending distribution and recent errors",
  request: {
    query: z.object({
      namespace: optionalParsedBy((raw) => (raw === undefined ? null : parseNamespace(raw))).openapi({
        description: "Only this namespace (then read:{namespace} is enough; else admin).",
      }),
    }),
  },
  responses: {
    200: { description: "The status.", content: { "application/json": { schema: StatusDocument } } },
    ...problems(),
  },
});

export function statusRoutes() {
  return declaredRoutes().openapi(statusRoute, async (c) => {
    const only = c.req.valid("query").namespace;
    requireScope(c, only === null ? { action: "admin" } : { action: "read", namespace: only });
    const services = c.get("services");
    const registered =
      only === null ? (await namespaceRegistry(c.env).list()).map((r) => r.namespace) : [only];
    const names = registered.slice(0, MAX_STATUS_NAMESPACES);
    const now = Date.now();
    const since = now - DEFAULT_FLEET_WINDOW_SECONDS * 1000;
    const namespaces = await Promise.all(
      names.map(async (namespace) => {
        const [status, settings, active] = await Promise.all([
          services.store(namespace).status(),
          services.store(namespace).settings(),
          activeClientsAcross(fleetShards(c.env, namespace), since),
        ]);
        const clients = new Map(active.map((a) => [a.key, a.clients]));
        return {
          namespace,
          visibility: settings.visibility,
          keys: status.keys.map((k) => ({
            ...k,
            updatedAt: new Date(k.updatedAt).toISOString(),
            clients: clients.get(k.key) ?? 0,
          })),
          rollouts: status.rollouts.map((r) => ({ ...r, startedAt: new Date(r.startedAt).toISOString() })),
          pending: status.pending.map((p) => ({ ...p, enqueuedAt: new Date(p.enqueuedAt).toISOString() })),
          lastPublish: status.lastPublish && {
            ...status.lastPublish,
            at: new Date(status.lastPublish.at).toISOString(),
          },
          drainFailures: status.drainFailures,
          recentErrors: status.recentErrors,
        };
      }),
    );
    c.header("Cache-Control", "no-store");
    return c.json(
      {
        at: new Date(now).toISOString(),
        namespaces,
        truncated: registered.length > names.length,
        totals: {
          namespaces: registered.length,
          keys: namespaces.reduce((n, ns) => n + ns.keys.filter((k) => !k.deleted).length, 0),
          rollouts: namespaces.reduce((n, ns) => n + ns.rollouts.length, 0),
          pending: namespaces.reduce((n, ns) => n + ns.pending.length, 0),
        },
      },
      200,
    );
  });
}
