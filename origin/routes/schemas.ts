/**
 * `/v1/schemas/{key}`: the JSON Schema (2020-12) a key's content must match (docs/api.md,
 * "Schemas"). PUT stores it (scope `publish:{ns}`), GET returns its exact bytes (`read:{ns}`),
 * DELETE removes it (`publish:{ns}`). Every change is audited. Setting a schema that the key's
 * served versions break is 422 with the errors, so "the served config matches its schema" holds.
 */
import { type Context, Hono } from "hono";
import { annotate, FleetconfError, requireKey } from "../../core";
import type { OriginApp } from "../app-env";
import { readConfigBody } from "../http/body";
import { readConfigMessage } from "../http/headers";
import { unwrap } from "../http/store-call";
import { requireScope } from "../middleware/admin-auth";
import type { SchemaRecord } from "../store/types";

/** Schemas are small next to configs; this bounds the work of checking every publish against one. */
export const MAX_SCHEMA_BYTES = 256 * 1024;
const PREFIX = "/v1/schemas/";
const SCHEMA_MEDIA_TYPE = "application/schema+json";

export function schemaRoutes(): Hono<OriginApp> {
  const routes = new Hono<OriginApp>();
  routes.get("/*", readSchema);
  routes.put("/*", putSchema);
  routes.delete("/*", deleteSchema);
  routes.all("/*", () => {
    throw new FleetconfError(
      "method_not_allowed",
      "Schemas are read with GET, set with PUT, removed with DELETE.",
      {
        headers: { Allow: "GET, HEAD, PUT, DELETE" },
      },
    );
  });
  return routes;
}

/** The key from the raw path: keys never contain `%`, so nothing is decoded. */
function keyOf(c: Context<OriginApp>) {
  const pathname = new URL(c.req.url).pathname;
  const key = requireKey(pathname.startsWith(PREFIX) ? pathname.slice(PREFIX.length) : "");
  annotate(c, { key: key.key });
  return key;
}

function schemaSummary(record: SchemaRecord) {
  return {
    key: record.key,
    digest: record.digest,
    size: record.body.length,
    updatedAt: new Date(record.updatedAt).toISOString(),
    updatedBy: record.updatedBy,
  };
}

async function readSchema(c: Context<OriginApp>): Promise<Response> {
  const { key, namespace } = keyOf(c);
  requireScope(c, { action: "read", namespace });
  const record = unwrap(await c.get("services").store(namespace).schema(key));
  return new Response(record.body, {
    status: 200,
    headers: {
      "Content-Type": SCHEMA_MEDIA_TYPE,
      "Content-Digest": record.digest,
      "Last-Modified": new Date(record.updatedAt).toUTCString(),
      "Cache-Control": "no-store",
    },
  });
}

async function putSchema(c: Context<OriginApp>): Promise<Response> {
  const { key, namespace } = keyOf(c);
  requireScope(c, { action: "publish", namespace });
  const message = readConfigMessage(c.req.raw.headers);
  // Any JSON media type, `application/schema+json` included (RFC 6839 §3.1), strict JSON rules.
  const body = await readConfigBody(c.req.raw, MAX_SCHEMA_BYTES);
  const outcome = unwrap(
    await c
      .get("services")
      .store(namespace)
      .putSchema({ namespace, key, body, actor: c.get("caller").sub, message }),
  );
  annotate(c, { schemaChanged: outcome.changed });
  c.header("Cache-Control", "no-store");
  return c.json({ ...schemaSummary(outcome.record), changed: outcome.changed }, outcome.created ? 201 : 200);
}

async function deleteSchema(c: Context<OriginApp>): Promise<Response> {
  const { key, namespace } = keyOf(c);
  requireScope(c, { action: "publish", namespace });
  const message = readConfigMessage(c.req.raw.headers);
  const removed = unwrap(
    await c
      .get("services")
      .store(namespace)
      .deleteSchema({ namespace, key, actor: c.get("caller").sub, message }),
  );
  c.header("Cache-Control", "no-store");
  return c.json({ ...schemaSummary(removed), deleted: true });
}
