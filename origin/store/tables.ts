/**
 * Typed reads and writes of the NamespaceStore's tables (namespace-migrations.ts). Synchronous on purpose:
 * SQLite in a Durable Object runs in-process, so a read-decide-write sequence without an `await`
 * cannot interleave with another request.
 */
import {
  concatBytes,
  DEFAULT_APPROVAL_TTL,
  DEFAULT_FRESHNESS_TTL,
  DEFAULT_NAMESPACE_SETTINGS,
  type NamespaceSettings,
} from "../../core";
import { BODY_CHUNK_BYTES } from "./namespace-migrations";
import type { AuditAction, AuditDetail, AuditEntry, AuditQuery, VersionRecord } from "./types";

export type KeyRow = {
  key: string;
  current_version: number | null;
  deleted: number;
  next_version: number;
  updated_at: number;
  /** First version of the current delete generation (migration 3). */
  floor: number;
};

type VersionRow = {
  key: string;
  version: number;
  etag: string;
  digest: string;
  signature: string;
  published_at: number;
  author: string;
  message: string | null;
  size: number;
  kv_written: number;
  redacted_at: number | null;
};

const VERSION_COLUMNS =
  "key, version, etag, digest, signature, published_at, author, message, size, kv_written, redacted_at";

export function readKey(sql: SqlStorage, key: string): KeyRow | null {
  return sql.exec<KeyRow>("SELECT * FROM keys WHERE key = ?", key).toArray()[0] ?? null;
}

export function writeKey(sql: SqlStorage, row: KeyRow): void {
  sql.exec(
    `INSERT INTO keys (key, current_version, deleted, next_version, updated_at, floor) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET current_version = excluded.current_version,
       deleted = excluded.deleted, next_version = excluded.next_version, updated_at = excluded.updated_at,
       floor = excluded.floor`,
    row.key,
    row.current_version,
    row.deleted,
    row.next_version,
    row.updated_at,
    row.floor,
  );
}

function toRecord(row: VersionRow): VersionRecord {
  return {
    key: row.key,
    version: row.version,
    etag: row.etag,
    digest: row.digest,
    signature: row.signature,
    publishedAt: row.published_at,
    author: row.author,
    message: row.message,
    size: row.size,
    ...(row.redacted_at === null ? {} : { redactedAt: row.redacted_at }),
  };
}

export function readVersion(sql: SqlStorage, key: string, version: number): VersionRecord | null {
  const row = sql
    .exec<VersionRow>(`SELECT ${VERSION_COLUMNS} FROM versions WHERE key = ? AND version = ?`, key, version)
    .toArray()[0];
  return row ? toRecord(row) : null;
}

/** The live version of a key: null when never published or deleted. */
export function readLive(sql: SqlStorage, key: string): VersionRecord | null {
  const row = readKey(sql, key);
  if (!row || row.deleted || row.current_version === null) return null;
  return readVersion(sql, key, row.current_version);
}

export function readBody(sql: SqlStorage, key: string, version: number): Uint8Array {
  const first = sql
    .exec<{ body: ArrayBuffer }>("SELECT body FROM versions WHERE key = ? AND version = ?", key, version)
    .toArray()[0];
  if (!first) throw new Error(`no body for ${key} v${version}`);
  const rest = sql
    .exec<{ data: ArrayBuffer }>(
      "SELECT data FROM version_parts WHERE key = ? AND version = ? ORDER BY part",
      key,
      version,
    )
    .toArray();
  if (rest.length === 0) return new Uint8Array(first.body);
  return concatBytes(new Uint8Array(first.body), ...rest.map((r) => new Uint8Array(r.data)));
}

export function insertVersion(sql: SqlStorage, record: VersionRecord, body: Uint8Array): void {
  sql.exec(
    `INSERT INTO versions (key, version, etag, digest, signature, published_at, author, message, size, body)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    record.key,
    record.version,
    record.etag,
    record.digest,
    record.signature,
    record.publishedAt,
    record.author,
    record.message,
    record.size,
    chunk(body, 0),
  );
  for (let part = 1; part * BODY_CHUNK_BYTES < body.length; part++) {
    sql.exec(
      "INSERT INTO version_parts (key, version, part, data) VALUES (?, ?, ?, ?)",
      record.key,
      record.version,
      part,
      chunk(body, part),
    );
  }
}

export function chunk(body: Uint8Array, part: number): ArrayBuffer {
  // slice() copies into a buffer of exactly this chunk, which is what SQLite should store.
  return body.slice(part * BODY_CHUNK_BYTES, (part + 1) * BODY_CHUNK_BYTES).buffer as ArrayBuffer;
}

/** Newest first, versions below `before` (exclusive), one more than asked so the caller knows if more exist. */
export function listVersions(
  sql: SqlStorage,
  key: string,
  before: number | null,
  limit: number,
): VersionRecord[] {
  return sql
    .exec<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM versions WHERE key = ? AND version < ? ORDER BY version DESC LIMIT ?`,
      key,
      before ?? Number.MAX_SAFE_INTEGER,
      limit,
    )
    .toArray()
    .map(toRecord);
}

/** Versions whose snapshot is not yet in KV, up to `upTo`, oldest first. */
export function unwrittenVersions(sql: SqlStorage, key: string, upTo: number): number[] {
  return sql
    .exec<{ version: number }>(
      "SELECT version FROM versions WHERE key = ? AND version <= ? AND kv_written = 0 ORDER BY version",
      key,
      upTo,
    )
    .toArray()
    .map((r) => r.version);
}

export function markWritten(sql: SqlStorage, key: string, version: number): void {
  sql.exec("UPDATE versions SET kv_written = 1 WHERE key = ? AND version = ?", key, version);
}

type SettingsRow = {
  visibility: string;
  max_age: number;
  stale_while_revalidate: number;
  stale_if_error: number;
  freshness_ttl: number;
  approval: string;
  approval_ttl: number;
};

export function readSettings(sql: SqlStorage): NamespaceSettings {
  const row = sql.exec<SettingsRow>("SELECT * FROM settings WHERE id = 1").toArray()[0];
  if (!row) return { ...DEFAULT_NAMESPACE_SETTINGS };
  return {
    visibility: row.visibility === "public" ? "public" : "private",
    maxAge: row.max_age,
    staleWhileRevalidate: row.stale_while_revalidate,
    staleIfError: row.stale_if_error,
    freshnessTtl: row.freshness_ttl,
    approval: row.approval === "required" ? "required" : "none",
    approvalTtl: row.approval_ttl,
  };
}

export function writeSettings(sql: SqlStorage, settings: NamespaceSettings, now: number): void {
  sql.exec(
    `INSERT INTO settings (id, visibility, max_age, stale_while_revalidate, stale_if_error, freshness_ttl,
       approval, approval_ttl, updated_at)
     VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET visibility = excluded.visibility, max_age = excluded.max_age,
       stale_while_revalidate = excluded.stale_while_revalidate, stale_if_error = excluded.stale_if_error,
       freshness_ttl = excluded.freshness_ttl, approval = excluded.approval,
       approval_ttl = excluded.approval_ttl, updated_at = excluded.updated_at`,
    settings.visibility,
    settings.maxAge,
    settings.staleWhileRevalidate,
    settings.staleIfError,
    settings.freshnessTtl ?? DEFAULT_FRESHNESS_TTL,
    settings.approval ?? "none",
    settings.approvalTtl ?? DEFAULT_APPROVAL_TTL,
    now,
  );
}

type AuditRow = {
  id: number;
  at: number;
  actor: string;
  action: string;
  key: string | null;
  from_version: number | null;
  to_version: number | null;
  message: string | null;
  digest: string | null;
  detail: string | null;
};

export function appendAudit(sql: SqlStorage, entry: Omit<AuditEntry, "id">): void {
  sql.exec(
    `INSERT INTO audit (at, actor, action, key, from_version, to_version, message, digest, detail)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    entry.at,
    entry.actor,
    entry.action,
    entry.key,
    entry.fromVersion,
    entry.toVersion,
    entry.message,
    entry.digest,
    entry.detail === null ? null : JSON.stringify(entry.detail),
  );
}

/** Oldest first (a log is read forwards), optionally for one key and from a time or id on. */
export function listAudit(sql: SqlStorage, query: AuditQuery): AuditEntry[] {
  const where: string[] = ["id > ?", "at >= ?"];
  const params: (string | number)[] = [query.afterId ?? 0, query.since ?? 0];
  if (query.key !== null) {
    where.push("key = ?");
    params.push(query.key);
  }
  return sql
    .exec<AuditRow>(
      `SELECT * FROM audit WHERE ${where.join(" AND ")} ORDER BY id LIMIT ?`,
      ...params,
      query.limit,
    )
    .toArray()
    .map((row) => ({
      id: row.id,
      at: row.at,
      actor: row.actor,
      action: row.action as AuditAction,
      key: row.key,
      fromVersion: row.from_version,
      toVersion: row.to_version,
      message: row.message,
      digest: row.digest,
      detail: row.detail === null ? null : (JSON.parse(row.detail) as AuditDetail),
    }));
}

/** key / redaction: target = the key; namespace: the namespace; bundle: the bundle name; root: "root" (the `*` object). */
export type OutboxKind = "key" | "namespace" | "bundle" | "redaction" | "root";
export type OutboxRow = { kind: string; target: string; seq: number; attempts: number };

/** Records that `target` changed; bumps `seq` if a distribution for it is already pending. */
export function enqueue(sql: SqlStorage, kind: OutboxKind, target: string, now: number): void {
  sql.exec(
    `INSERT INTO outbox (kind, target, seq, enqueued_at) VALUES (?, ?, 1, ?)
     ON CONFLICT (kind, target) DO UPDATE SET seq = seq + 1`,
    kind,
    target,
    now,
  );
}

export function listOutbox(sql: SqlStorage): OutboxRow[] {
  return sql
    .exec<OutboxRow>("SELECT kind, target, seq, attempts FROM outbox ORDER BY enqueued_at, target")
    .toArray();
}

export function isPending(sql: SqlStorage, kind: OutboxKind, target: string): boolean {
  return (
    sql.exec("SELECT 1 AS pending FROM outbox WHERE kind = ? AND target = ?", kind, target).toArray().length >
    0
  );
}

/** Removes a row only if it still has the `seq` the drain started from. */
export function settle(sql: SqlStorage, row: OutboxRow): void {
  sql.exec("DELETE FROM outbox WHERE kind = ? AND target = ? AND seq = ?", row.kind, row.target, row.seq);
}

export function recordFailure(sql: SqlStorage, error: string): void {
  sql.exec("UPDATE outbox SET attempts = attempts + 1, last_error = ?", error.slice(0, 500));
}

export function readMeta(sql: SqlStorage, name: string): string | null {
  return (
    sql.exec<{ value: string }>("SELECT value FROM meta WHERE name = ?", name).toArray()[0]?.value ?? null
  );
}

export function writeMeta(sql: SqlStorage, name: string, value: string): void {
  sql.exec(
    "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    name,
    value,
  );
}
