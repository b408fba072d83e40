/**
 * `/v1/configs/{key}`: publish (PUT), read (GET), tombstone (DELETE), history
 * (`/versions`, `/versions/{n}`) and rollback (POST `/rollback`), DESIGN §4; staged rollouts
 * (`/rollout`, routes/rollouts.ts) and diffs (`/diff`, routes/diff.ts). Handlers parse the
 * request into typed values, check the scope, and leave every decision that depends on stored
 * state to the namespace's Durable Object, which makes it under its lock.
 */
import { type Context, Hono } from "hono";
import { annotate, FleetconfError, ifNoneMatchHits } from "../../core";
import type { OriginApp } from "../app-env";
import { readConfigBody, readControlObject } from "../http/body";
import { type ConfigTarget, parseConfigTarget, rawConfigPath } from "../http/config-path";
import { decodeCursor, encodeCursor, parseLimit } from "../http/cursor";
import { readConfigMessage, readPreconditions } from "../http/headers";
import { unwrap } from "../http/store-call";
import { requireScope } from "../middleware/admin-auth";
import type { DeleteOutcome, StoredVersion, VersionRecord, WriteOutcome } from "../store/types";
import { readDiff } from "./diff";
import {
  finishRollout,
  raiseRolloutAlarm,
  readRollout,
  readRolloutHeader,
  rolloutDocument,
  updateRollout,
} from "./rollouts";

export const DEFAULT_HISTORY_LIMIT = 50;
export const MAX_HISTORY_LIMIT = 1000;
const NO_STORE = "no-store";

export function configRoutes(): Hono<OriginApp> {
  const routes = new Hono<OriginApp>();
  routes.get("/*", readConfig);
  routes.put("/*", publishConfig);
  routes.delete("/*", deleteConfig);
  routes.post("/*", postToConfig);
  routes.patch("/*", (c) => updateRollout(c, targetOf(c).key));
  return routes;
}

function targetOf(c: Context<OriginApp>): ConfigTarget {
  const target = parseConfigTarget(c.req.method, rawConfigPath(c.req.url));
  annotate(c, { key: target.key.key });
  return target;
}

async function readConfig(c: Context<OriginApp>): Promise<Response> {
  const target = targetOf(c);
  const { key, namespace } = target.key;
  requireScope(c, { action: "read", namespace });
  const store = c.get("services").store(namespace);
  switch (target.resource) {
    case "config": {
      const found = unwrap(await store.current(key));
      annotate(c, { version: found.record.version });
      return contentResponse(c, found);
    }
    case "versions": {
      const limit = parseLimit(c.req.query("limit"), DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT);
      const before = decodeCursor("before", c.req.query("cursor"));
      const page = unwrap(await store.history(key, before, limit));
      c.header("Cache-Control", NO_STORE);
      return c.json({
        versions: page.versions.map(historyItem),
        next: encodeCursor("before", page.nextBefore),
      });
    }
    case "version": {
      const found = unwrap(await store.version(key, target.version));
      annotate(c, { version: found.record.version });
      return versionDocument(found);
    }
    case "rollout":
      return readRollout(c, target.key);
    case "diff":
      return readDiff(c, target.key);
    case "rollback":
    case "rollout-complete":
    case "rollout-abort":
    case "rollout-alarm":
      throw new FleetconfError("method_not_allowed", "This is a POST.", { headers: { Allow: "POST" } });
  }
}

async function postToConfig(c: Context<OriginApp>): Promise<Response> {
  const target = targetOf(c);
  switch (target.resource) {
    case "rollout-complete":
      return finishRollout(c, target.key, "complete");
    case "rollout-abort":
      return finishRollout(c, target.key, "abort");
    case "rollout-alarm":
      return raiseRolloutAlarm(c, target.key);
    default:
      return rollbackConfig(c);
  }
}

async function publishConfig(c: Context<OriginApp>): Promise<Response> {
  const { key, namespace } = targetOf(c).key;
  requireScope(c, { action: "publish", namespace });
  const conditions = readPreconditions(c.req.raw.headers, { ifNoneMatch: true });
  const message = readConfigMessage(c.req.raw.headers);
  const rollout = readRolloutHeader(c.req.raw.headers);
  const body = await readConfigBody(c.req.raw, c.get("services").config.maxConfigBytes);
  const store = c.get("services").store(namespace);
  const outcome = unwrap(
    await store.publish({
      namespace,
      key,
      body,
      ...conditions,
      actor: c.get("caller").sub,
      message,
      rollout,
    }),
  );
  if (rollout === null) return writeResponse(c, outcome);
  // A rollout start answers with the rollout too: its share now and when it reaches everyone.
  const view = unwrap(await store.rolloutStatus(key));
  return writeResponse(c, outcome, view.rollout ? { rollout: rolloutDocument(view, Date.now()) } : {});
}

async function rollbackConfig(c: Context<OriginApp>): Promise<Response> {
  const { key, namespace } = targetOf(c).key;
  requireScope(c, { action: "publish", namespace });
  const conditions = readPreconditions(c.req.raw.headers, { ifNoneMatch: false });
  const message = readConfigMessage(c.req.raw.headers);
  const body = await readControlObject(c.req.raw, ["to"]);
  const to = body.to;
  if (typeof to !== "number" || !Number.isSafeInteger(to) || to < 1) {
    throw new FleetconfError(
      "invalid_request",
      'The body must be {"to": <version>} with a positive integer.',
    );
  }
  const outcome = unwrap(
    await c
      .get("services")
      .store(namespace)
      .rollback({
        namespace,
        key,
        to,
        ...conditions,
        actor: c.get("caller").sub,
        message,
      }),
  );
  return writeResponse(c, outcome);
}

async function deleteConfig(c: Context<OriginApp>): Promise<Response> {
  const { key, namespace } = targetOf(c).key;
  requireScope(c, { action: "publish", namespace });
  const conditions = readPreconditions(c.req.raw.headers, { ifNoneMatch: false });
  const message = readConfigMessage(c.req.raw.headers);
  const outcome: DeleteOutcome = unwrap(
    await c
      .get("services")
      .store(namespace)
      .remove({
        namespace,
        key,
        ...conditions,
        actor: c.get("caller").sub,
        message,
      }),
  );
  annotate(c, { version: outcome.version, distribution: outcome.distribution });
  c.header("Cache-Control", NO_STORE);
  return c.json({
    key: outcome.key,
    deleted: true,
    version: outcome.version,
    deletedAt: new Date(outcome.deletedAt).toISOString(),
    distribution: outcome.distribution,
  });
}

/** 201 for a new version (with Location), 200 when the bytes equal the current version's. */
function writeResponse(
  c: Context<OriginApp>,
  outcome: WriteOutcome,
  extra: Record<string, unknown> = {},
): Response {
  const { record } = outcome;
  annotate(c, { version: record.version, created: outcome.created, distribution: outcome.distribution });
  const headers: Record<string, string> = {
    ETag: record.etag,
    "Config-Version": String(record.version),
    "Cache-Control": NO_STORE,
  };
  if (outcome.created) headers.Location = `/v1/configs/${record.key}/versions/${record.version}`;
  return c.json(
    {
      key: record.key,
      version: record.version,
      etag: record.etag,
      digest: record.digest,
      publishedAt: new Date(record.publishedAt).toISOString(),
      distribution: outcome.distribution,
      ...extra,
    },
    outcome.created ? 201 : 200,
    headers,
  );
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

function historyItem(record: VersionRecord) {
  return {
    version: record.version,
    etag: record.etag,
    digest: record.digest,
    publishedAt: new Date(record.publishedAt).toISOString(),
    author: record.author,
    message: record.message,
    size: record.size,
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
