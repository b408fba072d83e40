/**
 * A config's history: `GET /v1/configs/{key}/-/versions` (newest first, paged),
 * `GET …/-/versions/{n}` (one version with its exact content) and `POST …/-/rollback`
 * `{"to": n}` (publishes version n's content as a new version; the old spelling `POST
 * …/rollback` stays as a deprecated alias). DESIGN §2, §4: versions are never reused.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { annotate, parseVersion } from "../../core";
import type { OriginApp } from "../app-env";
import { HistoryPage, RollbackRequest, VersionDocument, WriteResult } from "../contract";
import { strictJsonBody } from "../http/body";
import { CONFIGS, KeyParams, WriteHeaders } from "../http/config-params";
import { decodeCursor, encodeCursor, parseLimit } from "../http/cursor";
import {
  declaredRoutes,
  deprecatedAlias,
  KEY,
  optionalParsedBy,
  parsedBy,
  problems,
  storedJson,
} from "../http/declared-routes";
import { HELD, heldResponse } from "../http/held-response";
import { unwrap } from "../http/store-call";
import { writeResponse } from "../http/write-response";
import { keyScope } from "../middleware/admin-auth";
import { isHeld, type StoredVersion, type VersionRecord } from "../store/types";

export const DEFAULT_HISTORY_LIMIT = 50;
export const MAX_HISTORY_LIMIT = 1000;
const NO_STORE = "no-store";

const historyRoute = createRoute({
  method: "get",
  path: `${CONFIGS}/${KEY}/-/versions`,
  summary: "A config's versions, newest first",
  middleware: [keyScope("read")] as const,
  request: {
    params: KeyParams,
    query: z.object({
      limit: optionalParsedBy((raw) => parseLimit(raw, DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT)).openapi({
        description: `Page size, 1 to ${MAX_HISTORY_LIMIT} (default ${DEFAULT_HISTORY_LIMIT}).`,
      }),
      cursor: optionalParsedBy((raw) => decodeCursor("before", raw)).openapi({
        description: "The `next` of the page before.",
      }),
    }),
  },
  responses: {
    200: { description: "One page of versions.", content: { "application/json": { schema: HistoryPage } } },
    ...problems(404),
  },
});

const versionRoute = createRoute({
  method: "get",
  path: `${CONFIGS}/${KEY}/-/versions/{n}`,
  summary: "One version with its content",
  middleware: [keyScope("read")] as const,
  request: {
    params: KeyParams.extend({
      n: parsedBy(parseVersion).openapi({
        param: { name: "n", in: "path" },
        description: "A version number.",
        example: "3",
      }),
    }),
  },
  responses: {
    200: {
      description: "The version's record; `content` holds its exact bytes.",
      content: { "application/json": { schema: VersionDocument } },
    },
    ...problems(404, 410),
  },
});

const rollbackRequest = {
  params: KeyParams,
  headers: WriteHeaders,
  body: { required: true, content: { "application/json": { schema: RollbackRequest } } },
};
const rollbackResponses = {
  200: {
    description: "Version `to`'s bytes are already current: nothing changed.",
    content: { "application/json": { schema: WriteResult } },
  },
  201: {
    description: "A new version with version `to`'s content.",
    content: { "application/json": { schema: WriteResult } },
  },
  ...HELD,
  ...problems(404, 409, 410, 412, 413, 415, 422),
};
const rollbackRoute = createRoute({
  method: "post",
  path: `${CONFIGS}/${KEY}/-/rollback`,
  summary: "Publish an earlier version's content as a new version",
  middleware: [keyScope("publish"), strictJsonBody()] as const,
  request: rollbackRequest,
  responses: rollbackResponses,
});
/** The old spelling. Keys take no POST, so it cannot shadow a key: it stays, deprecated. */
const legacyRollbackRoute = createRoute({
  method: "post",
  path: `${CONFIGS}/${KEY}/rollback`,
  summary: "Deprecated: POST /v1/configs/{key}/-/rollback",
  deprecated: true,
  middleware: [deprecatedAlias("/rollback", "/-/rollback"), keyScope("publish"), strictJsonBody()] as const,
  request: rollbackRequest,
  responses: rollbackResponses,
});

export function versionRoutes() {
  return declaredRoutes()
    .openapi(historyRoute, async (c) => {
      const { key, namespace } = c.req.valid("param").key;
      annotate(c, { key });
      const { limit, cursor } = c.req.valid("query");
      const page = unwrap(await c.get("services").store(namespace).history(key, cursor, limit));
      c.header("Cache-Control", NO_STORE);
      return c.json(
        { versions: page.versions.map(historyItem), next: encodeCursor("before", page.nextBefore) },
        200,
      );
    })
    .openapi(versionRoute, async (c) => {
      const { key: configKey, n } = c.req.valid("param");
      const { key, namespace } = configKey;
      annotate(c, { key });
      const found = unwrap(await c.get("services").store(namespace).version(key, n));
      annotate(c, { version: found.record.version });
      return storedJson(VersionDocument, versionDocument(found));
    })
    .openapi(rollbackRoute, rollbackConfig)
    .openapi(legacyRollbackRoute, rollbackConfig);
}

async function rollbackConfig(
  c: Context<
    OriginApp,
    string,
    {
      out: {
        param: z.output<typeof KeyParams>;
        header: z.output<typeof WriteHeaders>;
        json: z.output<typeof RollbackRequest>;
      };
    }
  >,
) {
  const { key, namespace } = c.req.valid("param").key;
  annotate(c, { key });
  const headers = c.req.valid("header");
  const outcome = unwrap(
    await c
      .get("services")
      .store(namespace)
      .rollback({
        namespace,
        key,
        to: c.req.valid("json").to,
        ifMatch: headers["if-match"],
        ifNoneMatch: null,
        actor: c.get("caller").sub,
        message: headers["config-message"],
      }),
  );
  return isHeld(outcome) ? heldResponse(c, outcome.held) : writeResponse(c, outcome);
}

function historyItem(record: VersionRecord) {
  return {
    version: record.version,
    etag: record.etag,
    digest: record.digest,
    publishedAt: new Date(record.publishedAt).toISOString(),
    author: record.author,
    message: record.message,
    size: record.size,
    ...(record.redactedAt === undefined ? {} : { redactedAt: new Date(record.redactedAt).toISOString() }),
  };
}

/**
 * One version as a JSON record whose `content` member is the version's exact bytes, spliced in
 * rather than re-serialised, so numbers and formatting survive exactly as published.
 */
function versionDocument(found: StoredVersion): Response {
  const { record } = found;
  const head = JSON.stringify({
    key: record.key,
    ...historyItem(record),
    signature: record.signature,
    current: found.current,
  });
  const prefix = new TextEncoder().encode(`${head.slice(0, -1)},"content":`);
  const out = new Uint8Array(prefix.length + found.body.length + 1);
  out.set(prefix, 0);
  out.set(found.body, prefix.length);
  out[out.length - 1] = 0x7d; // "}"
  return new Response(out, {
    status: 200,
    // No ETag: this record is a different representation from the config bytes the etag names.
    headers: {
      "Content-Type": "application/json",
      "Config-Version": String(record.version),
      "Cache-Control": NO_STORE,
    },
  });
}
