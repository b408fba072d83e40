/**
 * `GET /v1/audit?namespace=&key=&since=&limit=&cursor=`: the audit log, oldest first (a log is
 * read forwards; `since` and the cursor resume where the reader stopped). A namespace's log needs
 * `publish:{namespace}` (or admin); without a namespace or key, the log of changes that belong to
 * no one namespace (`read:*` tokens) needs admin.
 */
import { type Context, Hono } from "hono";
import { FleetconfError, parseNamespace, requireKey } from "../../core";
import type { OriginApp } from "../app-env";
import { decodeCursor, encodeCursor, parseLimit } from "../http/cursor";
import { requireScope } from "../middleware/admin-auth";
import type { AuditEntry } from "../store/types";
import { GLOBAL_STORE } from "./tokens";

export const DEFAULT_AUDIT_LIMIT = 100;
export const MAX_AUDIT_LIMIT = 1000;

export function auditRoutes(): Hono<OriginApp> {
  const routes = new Hono<OriginApp>();
  routes.get("/", readAudit);
  return routes;
}

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

async function readAudit(c: Context<OriginApp>): Promise<Response> {
  const rawKey = c.req.query("key");
  const rawNamespace = c.req.query("namespace");
  const key = rawKey === undefined ? null : requireKey(rawKey);
  const namespace = rawNamespace === undefined ? (key?.namespace ?? null) : parseNamespace(rawNamespace);
  if (key && namespace !== key.namespace) {
    throw new FleetconfError("invalid_request", `The key ${key.key} is not in namespace ${namespace}.`);
  }
  requireScope(c, namespace === null ? { action: "admin" } : { action: "publish", namespace });
  const limit = parseLimit(c.req.query("limit"), DEFAULT_AUDIT_LIMIT, MAX_AUDIT_LIMIT);
  const page = await c
    .get("services")
    .store(namespace ?? GLOBAL_STORE)
    .audit({
      key: key?.key ?? null,
      since: parseSince(c.req.query("since")),
      afterId: decodeCursor("after", c.req.query("cursor")),
      limit,
    });
  c.header("Cache-Control", "no-store");
  return c.json({
    namespace,
    entries: page.entries.map(auditDocument),
    next: encodeCursor("after", page.nextAfter),
  });
}

function auditDocument(entry: AuditEntry) {
  return { ...entry, at: new Date(entry.at).toISOString() };
}
