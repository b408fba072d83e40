/**
 * The answer of every write that makes (or would have made) a version: publish, rollback. 201
 * with `Location` for a new version, 200 when the bytes equal the current version's; the body
 * is the contract's WriteResult (with the rollout a publish started, if any).
 */
import type { Context } from "hono";
import { annotate } from "../../core";
import type { OriginApp } from "../app-env";
import type { RolloutStatusDocument } from "../contract";
import type { WriteOutcome } from "../store/types";

/** 201 for a new version (with Location), 200 when the bytes equal the current version's. */
export function writeResponse(
  c: Context<OriginApp>,
  outcome: WriteOutcome,
  extra: { rollout?: RolloutStatusDocument } = {},
) {
  const { record } = outcome;
  annotate(c, { version: record.version, created: outcome.created, distribution: outcome.distribution });
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
    ...extra,
  };
  return outcome.created ? c.json(document, 201, headers) : c.json(document, 200, headers);
}
