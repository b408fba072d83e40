/**
 * `/v1/schemas/{key}`: the JSON Schema (2020-12) a key's content must match (docs/api.md,
 * "Schemas"). PUT stores it (scope `publish:{ns}`), GET returns its exact bytes (`read:{ns}`),
 * DELETE removes it (`publish:{ns}`). Every change is audited. Setting a schema that the key's
 * served versions break is 422 with the errors, so "the served config matches its schema" holds.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { annotate, FleetconfError } from "../../core";
import { SchemaSummary } from "../contract";
import { readConfigBody } from "../http/body";
import { KeyParams, WriteHeaders } from "../http/config-params";
import { declaredRoutes, KEY, problems, storedJson } from "../http/declared-routes";
import { unwrap } from "../http/store-call";
import { keyScope } from "../middleware/admin-auth";
import type { SchemaRecord } from "../store/types";

/** Schemas are small next to configs; this bounds the work of checking every publish against one. */
export const MAX_SCHEMA_BYTES = 256 * 1024;
const SCHEMA_MEDIA_TYPE = "application/schema+json";
const SCHEMAS = "/v1/schemas";
const headers = WriteHeaders.pick({ "config-message": true });
const JSON_SCHEMA = { description: "A JSON Schema (2020-12), kept as the exact bytes sent." };
const STORED_SCHEMA = z.unknown().openapi(JSON_SCHEMA);

const readRoute = createRoute({
  method: "get",
  path: `${SCHEMAS}/${KEY}`,
  summary: "The JSON Schema a key's content must match",
  middleware: [keyScope("read")] as const,
  request: { params: KeyParams },
  responses: {
    200: {
      description: "The schema's exact bytes.",
      content: { [SCHEMA_MEDIA_TYPE]: { schema: STORED_SCHEMA } },
    },
    ...problems(404),
  },
});

const putRoute = createRoute({
  method: "put",
  path: `${SCHEMAS}/${KEY}`,
  summary: "Set the JSON Schema of a key (422 when a served version breaks it)",
  middleware: [keyScope("publish")] as const,
  request: {
    params: KeyParams,
    headers,
    // A plain schema, not a zod one: the bytes are checked strictly and kept (readConfigBody).
    body: {
      required: true,
      content: { [SCHEMA_MEDIA_TYPE]: { schema: JSON_SCHEMA }, "application/json": { schema: JSON_SCHEMA } },
    },
  },
  responses: {
    200: {
      description: "Stored (or unchanged).",
      content: { "application/json": { schema: SchemaSummary } },
    },
    201: {
      description: "Stored, the key had none.",
      content: { "application/json": { schema: SchemaSummary } },
    },
    ...problems(413, 415, 422),
  },
});

const deleteRoute = createRoute({
  method: "delete",
  path: `${SCHEMAS}/${KEY}`,
  summary: "Remove the JSON Schema of a key",
  middleware: [keyScope("publish")] as const,
  request: { params: KeyParams, headers },
  responses: {
    200: { description: "Removed.", content: { "application/json": { schema: SchemaSummary } } },
    ...problems(404),
  },
});

export function schemaRoutes() {
  return declaredRoutes()
    .openapi(readRoute, async (c) => {
      const { key, namespace } = c.req.valid("param").key;
      annotate(c, { key });
      const record = unwrap(await c.get("services").store(namespace).schema(key));
      const response = new Response(record.body, {
        status: 200,
        headers: {
          "Content-Type": SCHEMA_MEDIA_TYPE,
          "Content-Digest": record.digest,
          "Last-Modified": new Date(record.updatedAt).toUTCString(),
          "Cache-Control": "no-store",
        },
      });
      return storedJson(STORED_SCHEMA, response);
    })
    .openapi(putRoute, async (c) => {
      const { key, namespace } = c.req.valid("param").key;
      annotate(c, { key });
      const message = c.req.valid("header")["config-message"];
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
      const document = { ...schemaSummary(outcome.record), changed: outcome.changed };
      return outcome.created ? c.json(document, 201) : c.json(document, 200);
    })
    .openapi(deleteRoute, async (c) => {
      const { key, namespace } = c.req.valid("param").key;
      annotate(c, { key });
      const removed = unwrap(
        await c
          .get("services")
          .store(namespace)
          .deleteSchema({
            namespace,
            key,
            actor: c.get("caller").sub,
            message: c.req.valid("header")["config-message"],
          }),
      );
      c.header("Cache-Control", "no-store");
      return c.json({ ...schemaSummary(removed), deleted: true as const }, 200);
    })
    .all(`${SCHEMAS}/*`, () => {
      throw new FleetconfError(
        "method_not_allowed",
        "Schemas are read with GET, set with PUT, removed with DELETE.",
        {
          headers: { Allow: "GET, HEAD, PUT, DELETE" },
        },
      );
    });
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
