/**
 * `/v1/configs/{key}`: publish (PUT), read (GET), tombstone (DELETE), DESIGN §4. History and
 * rollback (`/-/versions…`, `/-/rollback`: routes/versions.ts), staged rollouts (`/-/rollout…`),
 * diffs (`/-/diff`) and the fleet view (`/-/fleet`) have their own modules. Every route is
 * declared once with its scope check and validators (http/declared-routes.ts); handlers read
 * `c.req.valid(…)` and leave every decision that depends on stored state to the namespace's
 * Durable Object, which makes it under its lock.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { annotate, FleetconfError, ifNoneMatchHits } from "../../core";
import type { OriginApp } from "../app-env";
import { DeleteResult, PublishResult } from "../contract";
import { readConfigBody } from "../http/body";
import { CONFIGS, KeyParams, WriteHeaders } from "../http/config-params";
import { declaredRoutes, KEY, optionalParsedBy, problems, storedJson } from "../http/declared-routes";
import { parseEntityTags } from "../http/headers";
import { HELD, heldResponse } from "../http/held-response";
import { unwrap } from "../http/store-call";
import { deleteDocument, NO_STORE_HEADERS, writeResponse } from "../http/write-response";
import { keyScope } from "../middleware/admin-auth";
import { isHeld, type StoredVersion } from "../store/types";
import { parseRolloutValue, rolloutDocument } from "./rollouts";

const NO_STORE = "no-store";

export const PublishHeaders = WriteHeaders.extend({
  "if-none-match": optionalParsedBy((raw) => parseEntityTags("If-None-Match", raw)).openapi({
    description: "`*`: create only (RFC 9110 §13.1.2), else 412.",
  }),
  "config-rollout": optionalParsedBy(parseRolloutValue).openapi({
    description: "Start a staged rollout: `30`, or `linear; start=10; step=10; every=60` (docs/rollouts.md).",
  }),
});

/** Any JSON document, as an OpenAPI schema rather than a zod one (see publishRoute). */
export const ANY_JSON = { description: "Any JSON document (RFC 8259), kept as the exact bytes sent." };

const ANY_CONTENT = z.unknown().openapi(ANY_JSON);

const publishRoute = createRoute({
  method: "put",
  path: `${CONFIGS}/${KEY}`,
  summary: "Publish a new version of a config",
  middleware: [keyScope("publish")] as const,
  request: {
    params: KeyParams,
    headers: PublishHeaders,
    // A plain schema, so no validator parses the body: the bytes are checked by the strict JSON
    // rules (http/body.ts readConfigBody) and stored exactly, never parsed and re-serialised.
    body: { required: true, content: { "application/json": { schema: ANY_JSON } } },
  },
  responses: {
    200: {
      description: "The bytes equal the current version's: nothing changed.",
      content: { "application/json": { schema: PublishResult } },
    },
    201: { description: "A new version.", content: { "application/json": { schema: PublishResult } } },
    ...HELD,
    ...problems(409, 412, 413, 415, 422),
  },
});

const readRoute = createRoute({
  method: "get",
  path: `${CONFIGS}/${KEY}`,
  summary: "Read a config's current content",
  middleware: [keyScope("read")] as const,
  request: { params: KeyParams },
  responses: {
    200: {
      description: "The current version's exact bytes, with ETag, Config-Version and Config-Signature.",
      content: { "application/json": { schema: ANY_CONTENT } },
    },
    304: { description: "If-None-Match matched (RFC 9110 §13.1.2)." },
    ...problems(404),
  },
});

const deleteRoute = createRoute({
  method: "delete",
  path: `${CONFIGS}/${KEY}`,
  summary: "Delete a config (a tombstone; its versions are never reused)",
  middleware: [keyScope("publish")] as const,
  request: { params: KeyParams, headers: WriteHeaders },
  responses: {
    200: { description: "Deleted.", content: { "application/json": { schema: DeleteResult } } },
    ...HELD,
    ...problems(404, 409, 412),
  },
});

export function configRoutes() {
  return declaredRoutes()
    .openapi(publishRoute, async (c) => {
      const { key, namespace } = c.req.valid("param").key;
      annotate(c, { key });
      const headers = c.req.valid("header");
      const rollout = headers["config-rollout"];
      const body = await readConfigBody(c.req.raw, c.get("services").config.maxConfigBytes);
      const store = c.get("services").store(namespace);
      const outcome = unwrap(
        await store.publish({
          namespace,
          key,
          body,
          ifMatch: headers["if-match"],
          ifNoneMatch: headers["if-none-match"],
          actor: c.get("caller").sub,
          message: headers["config-message"],
          rollout,
        }),
      );
      if (isHeld(outcome)) return heldResponse(c, outcome.held);
      if (rollout === null) return writeResponse(c, outcome);
      // A rollout start answers with the rollout too: its share now and when it reaches everyone.
      const view = unwrap(await store.rolloutStatus(key));
      return writeResponse(c, outcome, view.rollout ? { rollout: rolloutDocument(view, Date.now()) } : {});
    })
    .openapi(readRoute, async (c) => {
      const { key, namespace } = c.req.valid("param").key;
      annotate(c, { key });
      const found = unwrap(await c.get("services").store(namespace).current(key));
      annotate(c, { version: found.record.version });
      return storedJson(ANY_CONTENT, contentResponse(c, found));
    })
    .openapi(deleteRoute, async (c) => {
      const { key, namespace } = c.req.valid("param").key;
      annotate(c, { key });
      const headers = c.req.valid("header");
      const outcome = unwrap(
        await c
          .get("services")
          .store(namespace)
          .remove({
            namespace,
            key,
            ifMatch: headers["if-match"],
            ifNoneMatch: null,
            actor: c.get("caller").sub,
            message: headers["config-message"],
          }),
      );
      if (isHeld(outcome)) return heldResponse(c, outcome.held);
      annotate(c, { version: outcome.version, distribution: outcome.distribution });
      return c.json(deleteDocument(outcome), 200, NO_STORE_HEADERS);
    });
}

/**
 * POST or PATCH on a path under /v1/configs that no declared route took: a config itself takes
 * neither (405 with Allow, RFC 9110 §15.5.6). Mounted after every config route, as a not-found
 * handler is: it answers only what nothing else answered.
 */
export function configMethodFallback() {
  return declaredRoutes().on(["POST", "PATCH"], `${CONFIGS}/*`, (c) => {
    throw new FleetconfError("method_not_allowed", `${c.req.method} is not defined for a config.`, {
      headers: { Allow: "GET, HEAD, PUT, DELETE" },
    });
  });
}

/** The live version's exact bytes with the headers the edge would send (RFC 9110 §13.1.2 for 304). */
function contentResponse(c: Context<OriginApp>, found: StoredVersion): Response {
  const { record } = found;
  const headers = new Headers({
    ETag: record.etag,
    "Config-Version": String(record.version),
    "Cache-Control": NO_STORE,
  });
  if (ifNoneMatchHits(c.req.header("If-None-Match"), record.etag)) {
    return new Response(null, { status: 304, headers });
  }
  headers.set("Content-Type", "application/json");
  headers.set("Content-Digest", record.digest);
  headers.set("Config-Signature", record.signature);
  headers.set("Last-Modified", new Date(record.publishedAt).toUTCString());
  return new Response(found.body, { status: 200, headers });
}
