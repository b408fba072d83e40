/**
 * `GET /v1/audit?namespace=&key=&since=&limit=&cursor=`: the audit log, oldest first (a log is
 * read forwards; `since` and the cursor resume where the reader stopped). A namespace's log needs
 * `publish:{namespace}` (or admin); without a namespace or key, the log of changes that belong to
 * no one namespace (`read:*` tokens) needs admin.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { FleetconfError, parseNamespace, requireKey } from "../../core";
import { AuditPage } from "../contract";
import { decodeCursor, encodeCursor, parseLimit } from "../http/cursor";
import { declaredRoutes, optionalParsedBy, problems } from "../http/declared-routes";
import { requireScope } from "../middleware/admin-auth";
import type { AuditEntry } from "../store/types";
import { GLOBAL_STORE } from "./tokens";

export const DEFAULT_AUDIT_LIMIT = 100;
export const MAX_AUDIT_LIMIT = 1000;

/** `since`: an RFC 3339 date-time or milliseconds since the epoch. */
export function parseSince(raw: string | undefined): number | null {
  if (raw === undefined) return null;
  if (/^[0-9]{1,15}$/.test(raw)) return Number(raw);
  const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
  const ms = rfc3339.test(raw) ? Date.parse(raw) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new FleetconfError("invalid_request", "since must be an RFC 3339 date-time or epoch milliseconds.");
  }
  return ms;
}

const auditRoute = createRoute({
  method: "get",
  path: "/v1/audit",
  summary: "The audit log, oldest first",
  request: {
    query: z.object({
      namespace: optionalParsedBy((raw) => (raw === undefined ? null : parseNamespace(raw))).openapi({
        description:
          "A namespace's log (needs publish:{namespace}); without it and key, the global log (admin).",
      }),
      key: optionalParsedBy((raw) => (raw === undefined ? null : requireKey(raw))).openapi({
        description: "Only this key's entries.",
      }),
      since: optionalParsedBy(parseSince).openapi({
        description: "An RFC 3339 date-time or epoch milliseconds.",
      }),
      limit: optionalParsedBy((raw) => parseLimit(raw, DEFAULT_AUDIT_LIMIT, MAX_AUDIT_LIMIT)).openapi({
        description: `Page size, 1 to ${MAX_AUDIT_LIMIT} (default ${DEFAULT_AUDIT_LIMIT}).`,
      }),
      cursor: optionalParsedBy((raw) => decodeCursor("after", raw)).openapi({
        description: "The `next` of the page before.",
      }),
    }),
  },
  responses: {
    200: { description: "One page of entries.", content: { "application/json": { schema: AuditPage } } },
    ...problems(),
  },
});

export function auditRoutes() {
  return declaredRoutes().openapi(auditRoute, async (c) => {
    const query = c.req.valid("query");
    const key = query.key;
    const namespace = query.namespace ?? key?.namespace ?? null;
    if (key && namespace !== key.namespace) {
      throw new FleetconfError("invalid_request", `The key ${key.key} is not in namespace ${namespace}.`);
    }
    requireScope(c, namespace === null ? { action: "admin" } : { action: "publish", namespace });
    const page = await c
      .get("services")
      .store(namespace ?? GLOBAL_STORE)
      .audit({ key: key?.key ?? null, since: query.since, afterId: query.cursor, limit: query.limit });
    c.header("Cache-Control", "no-store");
    return c.json(
      { namespace, entries: page.entries.map(auditDocument), next: encodeCursor("after", page.nextAfter) },
      200,
    );
  });
}

function auditDocument(entry: AuditEntry) {
  return { ...entry, at: new Date(entry.at).toISOString() };
}
