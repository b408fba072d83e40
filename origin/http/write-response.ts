/**
 * The answer of every write that makes (or would have made) a version: publish, rollback. 201
 * with `Location` for a new version, 200 when the bytes equal the current version's; the body
 * is the contract's WriteResult (with the rollout a publish started, if any).
 */
import type { Context } from "hono";
import { annotate } from "../../core";
import type { OriginApp } from "../app-env";
import type { RolloutStatusDocument } from "../contract";
import type { ChangeSetOutcome, MemberOutcome } from "../store/change-sets";
import type { DeleteOutcome, WriteOutcome } from "../store/types";

/** A write's document and headers, for writeResponse and for an approval's answer. */
export function writeDocument(outcome: WriteOutcome) {
  const { record } = outcome;
  const headers: Record<string, string> = {
    ETag: record.etag,
    "Config-Version": String(record.version),
    "Cache-Control": "no-store",
  };
  if (outcome.created) headers.Location = `/v1/configs/${record.key}/-/versions/${record.version}`;
  const document = {
    key: record.key,
    version: record.version,
    etag: record.etag,
    digest: record.digest,
    publishedAt: new Date(record.publishedAt).toISOString(),
    distribution: outcome.distribution,
  };
  return { document, headers };
}

/** 201 for a new version (with Location), 200 when the bytes equal the current version's. */
export function writeResponse(
  c: Context<OriginApp>,
  outcome: WriteOutcome,
  extra: { rollout?: RolloutStatusDocument } = {},
) {
  annotate(c, {
    version: outcome.record.version,
    created: outcome.created,
    distribution: outcome.distribution,
  });
  const { document, headers } = writeDocument(outcome);
  const full = { ...document, ...extra };
  return outcome.created ? c.json(full, 201, headers) : c.json(full, 200, headers);
}

export const NO_STORE_HEADERS = { "Cache-Control": "no-store" };

/** The document of a delete (200, DeleteResult). */
export function deleteDocument(outcome: DeleteOutcome) {
  return {
    key: outcome.key,
    deleted: true as const,
    version: outcome.version,
    deletedAt: new Date(outcome.deletedAt).toISOString(),
    distribution: outcome.distribution,
  };
}

function memberDocument(change: MemberOutcome) {
  if (change.outcome === "deleted") {
    return { key: change.key, outcome: change.outcome, version: change.version, etag: null, digest: null };
  }
  const { version, etag, digest } = change.record;
  return { key: change.key, outcome: change.outcome, version, etag, digest };
}

/** The document of a change set (201 when applied, 200 when every member was already as asked). */
export function changeSetDocument(namespace: string, outcome: ChangeSetOutcome) {
  return {
    namespace,
    applied: outcome.applied,
    changes: outcome.changes.map(memberDocument),
    distribution: outcome.distribution,
  };
}
