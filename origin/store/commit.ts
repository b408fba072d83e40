/**
 * The one way a NamespaceStore change is written: its own rows, its audit entry and its outbox row
 * in one SQL transaction, so no change is ever visible without its audit entry, and none reaches
 * SQLite without the outbox row that later carries it to KV and the edge (distribution/drain.ts).
 * Callers hold the write lock and have run their checks (lock → check → commitChange).
 */
import { buildSnapshot, logLine } from "../../core";
import type { OriginConfig } from "../config";
import { refreshBundles } from "./bundle-tables";
import { insertRollout } from "./rollout-tables";
import type { CommitOptions, StoreCore } from "./store-core";
import { appendAudit, enqueue, insertVersion, type OutboxKind, readKey, writeKey } from "./tables";
import type { AuditEntry, ChangeMeta, VersionRecord } from "./types";

export type OutboxTarget = { kind: OutboxKind; target: string };

export interface Change {
  at: number;
  /** The audit entry, without its id and time (the id is the table's, the time is `at`). */
  audit: Omit<AuditEntry, "id" | "at">;
  /** The change's own writes (none for an audit-only entry such as a minted token). */
  write?: () => void;
  /**
   * What the drain must distribute (a change set names several keys); null when nothing outside
   * the object reads it (key schemas).
   */
  outbox: OutboxTarget | readonly OutboxTarget[] | null;
  /** Fields of the structured log line (event = the audit action); omitted: no line. */
  log?: Record<string, unknown>;
}

export function commitChange(core: Pick<StoreCore, "sql" | "transaction">, change: Change): void {
  const { sql } = core;
  core.transaction(() => {
    change.write?.();
    appendAudit(sql, { ...change.audit, at: change.at });
    const targets = change.outbox === null ? [] : "kind" in change.outbox ? [change.outbox] : change.outbox;
    for (const { kind, target } of targets) enqueue(sql, kind, target, change.at);
    // A bundle's version moves with its members, in this same transaction (bundle-tables.ts).
    const keys = targets.filter((t) => t.kind === "key").map((t) => t.target);
    refreshBundles(sql, keys, change.at, change.audit.actor);
  });
  if (change.log) logLine({ part: "origin", event: change.audit.action, ...change.log });
}

/**
 * Signs the snapshot, then commits version, key row, audit entry and outbox row at once. When
 * starting a rollout the key's live version stays `options.live` and the rollout row is added.
 */
export async function commitVersion(
  core: Pick<StoreCore, "sql" | "transaction">,
  config: OriginConfig,
  change: ChangeMeta,
  body: Uint8Array,
  options: CommitOptions,
): Promise<VersionRecord> {
  const { sql } = core;
  const { action, live, detail, startRollout } = options;
  const row = readKey(sql, change.key);
  const version = row?.next_version ?? 1;
  const publishedAt = Date.now();
  const snapshot = await buildSnapshot({
    key: change.key,
    version,
    body,
    publishedAt,
    signingKey: config.signing.key,
    kid: config.signing.kid,
  });
  const record: VersionRecord = { ...snapshot.meta, author: change.actor, message: change.message };
  commitChange(core, {
    at: publishedAt,
    write: () => {
      insertVersion(sql, record, body);
      writeKey(sql, {
        key: change.key,
        current_version: startRollout && live ? live.version : version,
        deleted: 0,
        next_version: version + 1,
        updated_at: publishedAt,
        // A deleted key published again starts a new delete generation: nothing below this
        // version is ever served again (DESIGN §8), whatever a cache or a guessed ?version= asks.
        floor: row === null ? 1 : row.deleted ? version : row.floor,
      });
      if (startRollout && live) {
        insertRollout(sql, {
          ...startRollout,
          key: change.key,
          stableVersion: live.version,
          candidateVersion: version,
          at: publishedAt,
          actor: change.actor,
          message: change.message,
        });
      }
      options.alongside?.(version, publishedAt);
    },
    audit: {
      actor: change.actor,
      action,
      key: change.key,
      message: change.message,
      fromVersion: live?.version ?? null,
      toVersion: version,
      digest: record.digest,
      detail,
    },
    outbox: { kind: "key", target: change.key },
    log: { namespace: change.namespace, key: change.key, version, size: record.size, actor: change.actor },
  });
  return record;
}
