/**
 * A namespace's operational status, read from its NamespaceStore's SQLite for `GET /v1/status`:
 * its keys and live versions, running rollouts, the outbox (changes not yet confirmed in KV and
 * the edge caches), the last publish and the recent distribution errors. Read-only.
 */
import { listRunningRollouts } from "./rollout-tables";
import { readMeta } from "./tables";

/** Audit actions that make a new version (a change set's entry names no one key: key and version are null). */
const VERSION_ACTIONS = [
  "publish",
  "rollback",
  "rollout_start",
  "rollout_complete",
  "rollout_abort",
  "change_set",
];

export interface NamespaceStatus {
  keys: { key: string; version: number | null; deleted: boolean; updatedAt: number }[];
  rollouts: {
    key: string;
    stableVersion: number;
    candidateVersion: number;
    mode: string;
    percent: number;
    startedAt: number;
  }[];
  /** Changes waiting to reach KV and the edge caches; `attempts` > 0 means drains have failed. */
  pending: { kind: string; target: string; enqueuedAt: number; attempts: number; lastError: string | null }[];
  lastPublish: {
    key: string | null;
    version: number | null;
    at: number;
    actor: string;
    action: string;
  } | null;
  /** Consecutive failed drains (0 when the last one succeeded). */
  drainFailures: number;
  recentErrors: { target: string; error: string; attempts: number }[];
}

export function namespaceStatus(sql: SqlStorage): NamespaceStatus {
  const keys = sql
    .exec<{ key: string; current_version: number | null; deleted: number; updated_at: number }>(
      "SELECT key, current_version, deleted, updated_at FROM keys ORDER BY key",
    )
    .toArray()
    .map((r) => ({
      key: r.key,
      version: r.current_version,
      deleted: r.deleted === 1,
      updatedAt: r.updated_at,
    }));
  const rollouts = listRunningRollouts(sql).map((r) => ({
    key: r.key,
    stableVersion: r.stableVersion,
    candidateVersion: r.candidateVersion,
    mode: r.mode,
    percent: r.percent,
    startedAt: r.startedAt,
  }));
  const pending = sql
    .exec<{ kind: string; target: string; enqueued_at: number; attempts: number; last_error: string | null }>(
      "SELECT kind, target, enqueued_at, attempts, last_error FROM outbox ORDER BY enqueued_at, target",
    )
    .toArray()
    .map((r) => ({
      kind: r.kind,
      target: r.target,
      enqueuedAt: r.enqueued_at,
      attempts: r.attempts,
      lastError: r.last_error,
    }));
  const last = sql
    .exec<{ key: string | null; to_version: number | null; at: number; actor: string; action: string }>(
      `SELECT key, to_version, at, actor, action FROM audit
       WHERE action IN (${VERSION_ACTIONS.map(() => "?").join(", ")}) ORDER BY id DESC LIMIT 1`,
      ...VERSION_ACTIONS,
    )
    .toArray()[0];
  return {
    keys,
    rollouts,
    pending,
    lastPublish: last
      ? { key: last.key, version: last.to_version, at: last.at, actor: last.actor, action: last.action }
      : null,
    drainFailures: Number(readMeta(sql, "drain_failures") ?? "0"),
    recentErrors: pending
      .filter((p) => p.lastError !== null)
      .map((p) => ({ target: p.target, error: p.lastError ?? "", attempts: p.attempts })),
  };
}
