/**
 * NamespaceStore: one SQLite-backed Durable Object per namespace (`idFromName(namespace)`), the
 * source of truth for its keys, versions, settings and audit log. Writes are serialised by an
 * in-object mutex and committed in one SQL transaction together with an outbox row; the outbox
 * is then drained to KV and the edge caches (distribution/drain.ts), retried by alarm with
 * exponential backoff until it succeeds.
 *
 * Called over RPC by the origin's routes. Expected failures come back as a StoreResult because an
 * error thrown across RPC loses its class and code.
 */
import { DurableObject } from "cloudflare:workers";
import { buildSnapshot, contentDigestOf, logLine, type NamespaceSettings, sha256 } from "../../core";
import { type OriginConfig, originConfig } from "../config";
import type { DistributionDeps } from "../distribution/drain";
import { purgerFor } from "../distribution/purger";
import { DrainScheduler } from "../distribution/scheduler";
import type { OriginEnv } from "../env";
import { AsyncMutex } from "./mutex";
import { preconditionFailure } from "./preconditions";
import { failure, type StoreResult, success } from "./result";
import { ensureSchema } from "./schema";
import * as tables from "./tables";
import type {
  AuditAction,
  AuditDetail,
  AuditPage,
  AuditQuery,
  ChangeMeta,
  DeleteInput,
  DeleteOutcome,
  Distribution,
  HistoryPage,
  PublishInput,
  RollbackInput,
  SettingsOutcome,
  SettingsPatch,
  StoredVersion,
  TokenAuditInput,
  VersionRecord,
  WriteOutcome,
} from "./types";

/** A write's outcome inside the lock, before distribution. */
type Committed = { created: boolean; record: VersionRecord };

export class NamespaceStore extends DurableObject<OriginEnv> {
  private readonly sql: SqlStorage;
  private readonly writes = new AsyncMutex();
  private readonly drains: DrainScheduler;
  /**
   * Test seam: replaces the KV writer and/or purger the drain uses. An instance field, not a
   * method, so it is not callable over RPC; tests set it inside `runInDurableObject`.
   */
  distributionOverride: Partial<DistributionDeps> | null = null;

  constructor(ctx: DurableObjectState, env: OriginEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ensureSchema(this.sql);
    this.drains = new DrainScheduler(ctx.storage, () => this.distributionDeps());
    // A drain cut short by eviction leaves outbox rows behind: make sure an alarm will find them.
    if (tables.listOutbox(this.sql).length > 0)
      void ctx.blockConcurrencyWhile(() => this.drains.ensureAlarm());
  }

  async publish(input: PublishInput): Promise<StoreResult<WriteOutcome>> {
    const config = await originConfig(this.env);
    const digest = contentDigestOf(await sha256(input.body));
    const result = await this.writes.run(async () => {
      const live = tables.readLive(this.sql, input.key);
      const failed = preconditionFailure(live, input);
      if (failed) return failure<Committed>("precondition_failed", failed);
      // Same bytes as the live version: idempotent, no new version and no audit entry (DESIGN §2).
      if (live && live.digest === digest && live.size === input.body.length) {
        return success<Committed>({ created: false, record: live });
      }
      const record = await this.commitVersion(config, input, input.body, "publish", live, null);
      return success<Committed>({ created: true, record });
    });
    if (!result.ok) return result;
    return success({ ...result.value, distribution: await this.distribute(input.key) });
  }

  async rollback(input: RollbackInput): Promise<StoreResult<WriteOutcome>> {
    const config = await originConfig(this.env);
    const result = await this.writes.run(async () => {
      const target = tables.readVersion(this.sql, input.key, input.to);
      if (!target)
        return failure<Committed>("not_found", `Version ${input.to} of ${input.key} does not exist.`);
      const live = tables.readLive(this.sql, input.key);
      const failed = preconditionFailure(live, input);
      if (failed) return failure<Committed>("precondition_failed", failed);
      if (live && live.digest === target.digest && live.size === target.size) {
        return success<Committed>({ created: false, record: live });
      }
      const body = tables.readBody(this.sql, input.key, input.to);
      const record = await this.commitVersion(config, input, body, "rollback", live, { to: input.to });
      return success<Committed>({ created: true, record });
    });
    if (!result.ok) return result;
    return success({ ...result.value, distribution: await this.distribute(input.key) });
  }

  async remove(input: DeleteInput): Promise<StoreResult<DeleteOutcome>> {
    const result = await this.writes.run(async () => {
      const row = tables.readKey(this.sql, input.key);
      const live = tables.readLive(this.sql, input.key);
      if (!row || !live)
        return failure<{ version: number; at: number }>("not_found", notFound(input.key, row));
      const failed = preconditionFailure(live, input);
      if (failed) return failure<{ version: number; at: number }>("precondition_failed", failed);
      const at = Date.now();
      this.ctx.storage.transactionSync(() => {
        tables.writeKey(this.sql, { ...row, deleted: 1, updated_at: at });
        tables.appendAudit(this.sql, {
          ...auditBase(input, "delete", at),
          fromVersion: live.version,
          toVersion: null,
          digest: live.digest,
          detail: null,
        });
        tables.enqueue(this.sql, "key", input.key, at);
      });
      logLine({
        part: "origin",
        event: "delete",
        namespace: input.namespace,
        key: input.key,
        version: live.version,
        actor: input.actor,
      });
      return success({ version: live.version, at });
    });
    if (!result.ok) return result;
    const distribution = await this.distribute(input.key);
    return success({
      key: input.key,
      version: result.value.version,
      deletedAt: result.value.at,
      distribution,
    });
  }

  current(key: string): StoreResult<StoredVersion> {
    const row = tables.readKey(this.sql, key);
    const live = tables.readLive(this.sql, key);
    if (!live) return failure("not_found", notFound(key, row));
    return success({ record: live, body: tables.readBody(this.sql, key, live.version), current: true });
  }

  version(key: string, version: number): StoreResult<StoredVersion> {
    const record = tables.readVersion(this.sql, key, version);
    if (!record) return failure("not_found", `Version ${version} of ${key} does not exist.`);
    const row = tables.readKey(this.sql, key);
    const current = row !== null && !row.deleted && row.current_version === version;
    return success({ record, body: tables.readBody(this.sql, key, version), current });
  }

  /** Newest first. History outlives a delete: admins need it to restore. */
  history(key: string, before: number | null, limit: number): StoreResult<HistoryPage> {
    if (!tables.readKey(this.sql, key)) return failure("not_found", `${key} was never published.`);
    const rows = tables.listVersions(this.sql, key, before, limit + 1);
    const versions = rows.slice(0, limit);
    const last = versions.at(-1);
    return success({ versions, nextBefore: rows.length > limit && last ? last.version : null });
  }

  settings(): NamespaceSettings {
    return tables.readSettings(this.sql);
  }

  async updateSettings(namespace: string, patch: SettingsPatch, actor: string): Promise<SettingsOutcome> {
    const { settings, changed } = await this.writes.run(async () => {
      const before = tables.readSettings(this.sql);
      const after: NamespaceSettings = { ...before, ...patch };
      const fields = (Object.keys(after) as (keyof NamespaceSettings)[]).filter(
        (f) => after[f] !== before[f],
      );
      if (fields.length === 0) return { settings: before, changed: false };
      const at = Date.now();
      this.ctx.storage.transactionSync(() => {
        tables.writeSettings(this.sql, after, at);
        tables.appendAudit(this.sql, {
          ...auditBase({ key: null, actor, message: null }, "namespace", at),
          fromVersion: null,
          toVersion: null,
          digest: null,
          detail: Object.fromEntries(fields.map((f) => [f, { from: before[f], to: after[f] }])),
        });
        tables.enqueue(this.sql, "namespace", namespace, at);
      });
      logLine({ part: "origin", event: "namespace", namespace, fields, actor });
      return { settings: after, changed: true };
    });
    await this.drains.request();
    const distribution = tables.isPending(this.sql, "namespace", namespace) ? "pending" : "complete";
    return { settings, changed, distribution };
  }

  /** Audits a minted read token: its scope and expiry, never the token. */
  recordToken(input: TokenAuditInput): void {
    logLine({
      part: "origin",
      event: "token",
      scope: input.scope,
      actor: input.actor,
      expiresAt: input.expiresAt,
    });
    tables.appendAudit(this.sql, {
      ...auditBase({ key: null, actor: input.actor, message: null }, "token", Date.now()),
      fromVersion: null,
      toVersion: null,
      digest: null,
      detail: { scope: input.scope, expiresAt: new Date(input.expiresAt).toISOString() },
    });
  }

  audit(query: AuditQuery): AuditPage {
    const rows = tables.listAudit(this.sql, { ...query, limit: query.limit + 1 });
    const entries = rows.slice(0, query.limit);
    const last = entries.at(-1);
    return { entries, nextAfter: rows.length > query.limit && last ? last.id : null };
  }

  override async alarm(): Promise<void> {
    await this.drains.request();
  }

  /** Signs the snapshot, then commits version, key row, audit entry and outbox row at once. */
  private async commitVersion(
    config: OriginConfig,
    change: ChangeMeta,
    body: Uint8Array,
    action: "publish" | "rollback",
    live: VersionRecord | null,
    detail: AuditDetail | null,
  ): Promise<VersionRecord> {
    const row = tables.readKey(this.sql, change.key);
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
    this.ctx.storage.transactionSync(() => {
      tables.insertVersion(this.sql, record, body);
      tables.writeKey(this.sql, {
        key: change.key,
        current_version: version,
        deleted: 0,
        next_version: version + 1,
        updated_at: publishedAt,
      });
      tables.appendAudit(this.sql, {
        ...auditBase(change, action, publishedAt),
        fromVersion: live?.version ?? null,
        toVersion: version,
        digest: record.digest,
        detail,
      });
      tables.enqueue(this.sql, "key", change.key, publishedAt);
    });
    logLine({
      part: "origin",
      event: action,
      namespace: change.namespace,
      key: change.key,
      version,
      size: record.size,
      actor: change.actor,
    });
    return record;
  }

  /** Drains now and tells whether this key's change has fully reached KV and the edge. */
  private async distribute(key: string): Promise<Distribution> {
    await this.drains.request();
    return tables.isPending(this.sql, "key", key) ? "pending" : "complete";
  }

  private async distributionDeps(): Promise<DistributionDeps> {
    const override = this.distributionOverride;
    return {
      kv: override?.kv ?? this.env.CONFIGS,
      purger: override?.purger ?? purgerFor((await originConfig(this.env)).purge, this.env),
      ...(override?.kvTimeoutMs === undefined ? {} : { kvTimeoutMs: override.kvTimeoutMs }),
    };
  }
}

function auditBase(
  change: { key: string | null; actor: string; message: string | null },
  action: AuditAction,
  at: number,
) {
  return { at, actor: change.actor, action, key: change.key, message: change.message };
}

function notFound(key: string, row: tables.KeyRow | null): string {
  return row?.deleted ? `${key} was deleted.` : `${key} was never published.`;
}
