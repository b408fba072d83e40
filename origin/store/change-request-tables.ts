/**
 * Typed reads and writes of `change_requests` and `change_request_parts` (migration 7). A held
 * write's bytes are stored as versions' are: the first chunk in the row, the rest in parts, since
 * a Durable Object SQLite value is capped at 2 MB and a config may be larger.
 */
import { concatBytes, effectiveState, isChangeRequestState } from "../../core";
import { BODY_CHUNK_BYTES } from "./namespace-migrations";
import { chunk } from "./tables";
import type { ChangeRequestQuery, ChangeRequestRecord, RolloutSpec } from "./types";

type RequestRow = {
  id: number;
  kind: string;
  key: string | null;
  keys: string;
  author: string;
  created_at: number;
  expires_at: number;
  message: string | null;
  digest: string | null;
  size: number;
  if_match: string | null;
  if_none_match: string | null;
  base_etag: string | null;
  rollout: string | null;
  rollback_to: number | null;
  state: string;
  decided_at: number | null;
  decided_by: string | null;
  reason: string | null;
  result_version: number | null;
};

const COLUMNS =
  "id, kind, key, keys, author, created_at, expires_at, message, digest, size, if_match, if_none_match, base_etag, rollout, rollback_to, state, decided_at, decided_by, reason, result_version";

/** What a new request stores: its record's facts and the bytes to apply on approval. */
export type NewRequest = Omit<
  ChangeRequestRecord,
  "id" | "state" | "decidedAt" | "decidedBy" | "reason" | "resultVersion"
> & { body: Uint8Array };

function kindOf(raw: string): ChangeRequestRecord["kind"] {
  if (raw === "publish" || raw === "rollback" || raw === "delete" || raw === "changes") return raw;
  throw new Error(`change request of unknown kind ${raw}`);
}

function toRecord(row: RequestRow, namespace: string, nowMs: number): ChangeRequestRecord {
  const stored = isChangeRequestState(row.state) ? row.state : "failed";
  return {
    id: row.id,
    namespace,
    kind: kindOf(row.kind),
    key: row.key,
    keys: JSON.parse(row.keys) as string[],
    author: row.author,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    message: row.message,
    digest: row.digest,
    size: row.size,
    ifMatch: row.if_match,
    ifNoneMatch: row.if_none_match,
    baseEtag: row.base_etag,
    rollout: row.rollout === null ? null : (JSON.parse(row.rollout) as RolloutSpec),
    to: row.rollback_to,
    state: effectiveState(stored, row.expires_at, nowMs),
    decidedAt: row.decided_at,
    decidedBy: row.decided_by,
    reason: row.reason,
    resultVersion: row.result_version,
  };
}

/** Inserts the request and its bytes; returns its id (call inside the commit's transaction). */
export function insertRequest(sql: SqlStorage, request: NewRequest): number {
  const { id } = sql
    .exec<{ id: number }>(
      `INSERT INTO change_requests (kind, key, keys, author, created_at, expires_at, message, digest, size,
         if_match, if_none_match, base_etag, rollout, rollback_to, body, state)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending') RETURNING id`,
      request.kind,
      request.key,
      JSON.stringify(request.keys),
      request.author,
      request.createdAt,
      request.expiresAt,
      request.message,
      request.digest,
      request.size,
      request.ifMatch,
      request.ifNoneMatch,
      request.baseEtag,
      request.rollout === null ? null : JSON.stringify(request.rollout),
      request.to,
      chunk(request.body, 0),
    )
    .one();
  for (let part = 1; part * BODY_CHUNK_BYTES < request.body.length; part++) {
    sql.exec(
      "INSERT INTO change_request_parts (id, part, data) VALUES (?, ?, ?)",
      id,
      part,
      chunk(request.body, part),
    );
  }
  return id;
}

export function readRequest(
  sql: SqlStorage,
  namespace: string,
  id: number,
  nowMs: number,
): ChangeRequestRecord | null {
  const row = sql.exec<RequestRow>(`SELECT ${COLUMNS} FROM change_requests WHERE id = ?`, id).toArray()[0];
  return row ? toRecord(row, namespace, nowMs) : null;
}

export function readRequestBody(sql: SqlStorage, id: number): Uint8Array {
  const first = sql.exec<{ body: ArrayBuffer }>("SELECT body FROM change_requests WHERE id = ?", id).one();
  const rest = sql
    .exec<{ data: ArrayBuffer }>("SELECT data FROM change_request_parts WHERE id = ? ORDER BY part", id)
    .toArray();
  return concatBytes(new Uint8Array(first.body), ...rest.map((r) => new Uint8Array(r.data)));
}

/** Newest first; `expired` includes pending rows past their expiry, `pending` excludes them. */
export function listRequests(
  sql: SqlStorage,
  namespace: string,
  query: ChangeRequestQuery,
  nowMs: number,
): ChangeRequestRecord[] {
  const where = ["id < ?"];
  const params: (string | number)[] = [query.before ?? Number.MAX_SAFE_INTEGER];
  if (query.state === "pending") {
    where.push("state = 'pending' AND expires_at > ?");
    params.push(nowMs);
  } else if (query.state === "expired") {
    where.push("(state = 'expired' OR (state = 'pending' AND expires_at <= ?))");
    params.push(nowMs);
  } else if (query.state !== "all") {
    where.push("state = ?");
    params.push(query.state);
  }
  return sql
    .exec<RequestRow>(
      `SELECT ${COLUMNS} FROM change_requests WHERE ${where.join(" AND ")} ORDER BY id DESC LIMIT ?`,
      ...params,
      query.limit,
    )
    .toArray()
    .map((row) => toRecord(row, namespace, nowMs));
}

/** Ids of pending requests past their expiry, oldest first (to be recorded as expired). */
export function expiredPending(sql: SqlStorage, nowMs: number): number[] {
  return sql
    .exec<{ id: number }>(
      "SELECT id FROM change_requests WHERE state = 'pending' AND expires_at <= ? ORDER BY id",
      nowMs,
    )
    .toArray()
    .map((r) => r.id);
}

/**
 * Records a decision. The bytes of a request that will never be applied are dropped (a rejected
 * secret should not linger); an approved one keeps them only in the version it made.
 */
export function decideRequest(
  sql: SqlStorage,
  id: number,
  decision: {
    state: "approved" | "rejected" | "failed" | "expired";
    at: number;
    by: string | null;
    reason: string | null;
    resultVersion: number | null;
  },
): void {
  sql.exec(
    `UPDATE change_requests SET state = ?, decided_at = ?, decided_by = ?, reason = ?, result_version = ?,
       body = x'' WHERE id = ?`,
    decision.state,
    decision.at,
    decision.by,
    decision.reason,
    decision.resultVersion,
    id,
  );
  sql.exec("DELETE FROM change_request_parts WHERE id = ?", id);
}
