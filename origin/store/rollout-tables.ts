/**
 * Typed reads and writes of the `rollouts` and `schemas` tables (schema.ts). Synchronous, like
 * tables.ts: a read-decide-write sequence without an `await` cannot interleave with another call.
 */
import { type Ring, type RolloutHead, ringFrom } from "../../core";
import type {
  AutoAbort,
  RolloutOutcome,
  RolloutRecord,
  RolloutSpec,
  SchemaRecord,
  VersionRecord,
} from "./types";

type RolloutRow = {
  id: number;
  key: string;
  stable_version: number;
  candidate_version: number;
  mode: string;
  percent: number;
  start: number;
  step: number;
  every_seconds: number;
  started_at: number;
  started_by: string;
  message: string | null;
  updated_at: number;
  updated_by: string;
  ended_at: number | null;
  ended_by: string | null;
  outcome: string | null;
  result_version: number | null;
  max_rejected: number | null;
  min_clients: number | null;
  bake_seconds: number;
  auto_abort: string | null;
  ring_colos: string | null;
  ring_continents: string | null;
};

/** The stored ring (two columns of space-separated codes); a row that fails the check is a bug. */
function ringOfRow(row: RolloutRow): Ring | null {
  if (row.ring_colos === null && row.ring_continents === null) return null;
  const codes = (text: string | null) => (text === null || text === "" ? [] : text.split(" "));
  const ring = ringFrom({ colos: codes(row.ring_colos), continents: codes(row.ring_continents) });
  if (ring === "malformed") throw new Error(`rollout ${row.id} of ${row.key} has a malformed ring`);
  return ring;
}

/** A ring as its two columns (NULL, NULL: everywhere). */
function ringColumns(ring: Ring | null | undefined): [string | null, string | null] {
  if (!ring) return [null, null];
  return [ring.colos.join(" "), ring.continents.join(" ")];
}

function toRollout(row: RolloutRow): RolloutRecord {
  return {
    id: row.id,
    key: row.key,
    stableVersion: row.stable_version,
    candidateVersion: row.candidate_version,
    mode: row.mode === "linear" ? "linear" : "fixed",
    percent: row.percent,
    start: row.start,
    step: row.step,
    everySeconds: row.every_seconds,
    startedAt: row.started_at,
    startedBy: row.started_by,
    message: row.message,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
    endedAt: row.ended_at,
    endedBy: row.ended_by,
    outcome: row.outcome === "completed" || row.outcome === "aborted" ? row.outcome : null,
    resultVersion: row.result_version,
    gates:
      row.max_rejected === null && row.bake_seconds === 0
        ? null
        : { maxRejected: row.max_rejected, minClients: row.min_clients ?? 0, bakeSeconds: row.bake_seconds },
    autoAbort: row.auto_abort === null ? null : (JSON.parse(row.auto_abort) as AutoAbort),
    ring: ringOfRow(row),
  };
}

/** Every running rollout of the namespace, by key. */
export function listRunningRollouts(sql: SqlStorage): RolloutRecord[] {
  return sql
    .exec<RolloutRow>("SELECT * FROM rollouts WHERE ended_at IS NULL ORDER BY key")
    .toArray()
    .map(toRollout);
}

/** The key's running rollout, or null. */
export function readRunningRollout(sql: SqlStorage, key: string): RolloutRecord | null {
  const row = sql
    .exec<RolloutRow>("SELECT * FROM rollouts WHERE key = ? AND ended_at IS NULL", key)
    .toArray()[0];
  return row ? toRollout(row) : null;
}

/** The key's running rollout, else its most recent finished one, else null. */
export function readLatestRollout(sql: SqlStorage, key: string): RolloutRecord | null {
  const row = sql
    .exec<RolloutRow>("SELECT * FROM rollouts WHERE key = ? ORDER BY id DESC LIMIT 1", key)
    .toArray()[0];
  return row ? toRollout(row) : null;
}

export function insertRollout(
  sql: SqlStorage,
  entry: RolloutSpec & {
    key: string;
    stableVersion: number;
    candidateVersion: number;
    at: number;
    actor: string;
    message: string | null;
  },
): void {
  sql.exec(
    `INSERT INTO rollouts (key, stable_version, candidate_version, mode, percent, start, step,
       every_seconds, started_at, started_by, message, updated_at, updated_by, max_rejected, min_clients,
       bake_seconds, ring_colos, ring_continents)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    entry.key,
    entry.stableVersion,
    entry.candidateVersion,
    entry.mode,
    entry.percent,
    entry.start,
    entry.step,
    entry.everySeconds,
    entry.at,
    entry.actor,
    entry.message,
    entry.at,
    entry.actor,
    entry.gates?.maxRejected ?? null,
    entry.gates?.maxRejected == null ? null : entry.gates.minClients,
    entry.gates?.bakeSeconds ?? 0,
    ...ringColumns(entry.ring),
  );
}

/** Records why the origin aborted a rollout by itself (set in the abort's transaction). */
export function writeAutoAbort(sql: SqlStorage, id: number, reason: AutoAbort): void {
  sql.exec("UPDATE rollouts SET auto_abort = ? WHERE id = ?", JSON.stringify(reason), id);
}

/** Replaces how the running rollout's share is set (PATCH …/rollout). */
export function updateRolloutSpec(
  sql: SqlStorage,
  id: number,
  spec: RolloutSpec,
  at: number,
  actor: string,
): void {
  sql.exec(
    `UPDATE rollouts SET mode = ?, percent = ?, start = ?, step = ?, every_seconds = ?, updated_at = ?,
       updated_by = ? WHERE id = ? AND ended_at IS NULL`,
    spec.mode,
    spec.percent,
    spec.start,
    spec.step,
    spec.everySeconds,
    at,
    actor,
    id,
  );
}

/** Replaces the running rollout's ring (PATCH …/rollout; the route checked that it only widens). */
export function updateRolloutRing(
  sql: SqlStorage,
  id: number,
  ring: Ring | null,
  at: number,
  actor: string,
): void {
  sql.exec(
    `UPDATE rollouts SET ring_colos = ?, ring_continents = ?, updated_at = ?, updated_by = ?
     WHERE id = ? AND ended_at IS NULL`,
    ...ringColumns(ring),
    at,
    actor,
    id,
  );
}

export function endRollout(
  sql: SqlStorage,
  id: number,
  end: { at: number; actor: string; outcome: RolloutOutcome; resultVersion: number },
): void {
  sql.exec(
    `UPDATE rollouts SET ended_at = ?, ended_by = ?, outcome = ?, result_version = ?, updated_at = ?,
       updated_by = ? WHERE id = ? AND ended_at IS NULL`,
    end.at,
    end.actor,
    end.outcome,
    end.resultVersion,
    end.at,
    end.actor,
    id,
  );
}

/** The `rollout` member of the KV head (core RolloutHead) for a running rollout. */
export function rolloutHeadOf(rollout: RolloutRecord, candidate: VersionRecord): RolloutHead {
  return {
    candidate: { version: candidate.version, etag: candidate.etag, publishedAt: candidate.publishedAt },
    mode: rollout.mode,
    percent: rollout.percent,
    start: rollout.start,
    step: rollout.step,
    everySeconds: rollout.everySeconds,
    startedAt: rollout.startedAt,
    // Absent rather than null without a ring: the head stays byte-for-byte what it was before rings.
    ...(rollout.ring ? { ring: rollout.ring } : {}),
  };
}

type SchemaRow = { key: string; body: ArrayBuffer; digest: string; updated_at: number; updated_by: string };

export function readSchema(sql: SqlStorage, key: string): SchemaRecord | null {
  const row = sql.exec<SchemaRow>("SELECT * FROM schemas WHERE key = ?", key).toArray()[0];
  if (!row) return null;
  return {
    key: row.key,
    body: new Uint8Array(row.body),
    digest: row.digest,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}

export function writeSchema(sql: SqlStorage, record: SchemaRecord): void {
  sql.exec(
    `INSERT INTO schemas (key, body, digest, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET body = excluded.body, digest = excluded.digest,
       updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
    record.key,
    record.body.slice().buffer as ArrayBuffer,
    record.digest,
    record.updatedAt,
    record.updatedBy,
  );
}

export function deleteSchema(sql: SqlStorage, key: string): void {
  sql.exec("DELETE FROM schemas WHERE key = ?", key);
}
