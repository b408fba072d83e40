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
import { diffSides, type VersionRef } from "./diff-sides";
import { AsyncMutex } from "./mutex";
import { preconditionFailure } from "./preconditions";
import { type Committed, planPublish } from "./publish-plan";
import { failure, type StoreResult, success } from "./result";
import { insertRollout } from "./rollout-tables";
import * as rollouts from "./rollouts";
import { ensureSchema } from "./schema";
import * as schemas from "./schemas";
import { type NamespaceStatus, namespaceStatus } from "./status";
import type { CommitOptions, StoreCore } from "./store-core";
import * as tables from "./tables";
import type {
  AuditAction,
  AuditPage,
  AuditQuery,
  ChangeMeta,
  DeleteInput,
  DeleteOutcome,
  Distribution,
  HistoryPage,
  PublishInput,
  RollbackInput,
  RolloutChange,
  RolloutUpdateInput,
  RolloutView,
  SchemaInput,
  SchemaOutcome,
  SchemaRecord,
  SettingsOutcome,
  SettingsPatch,
  StoredVersion,
  TokenAuditInput,
  VersionRecord,
  WriteOutcome,
} from "./types";

export class NamespaceStore extends DurableObject<OriginEnv> {
  private readonly sql: SqlStorage;
  private readonly writes = new AsyncMutex();
  private readonly drains: DrainScheduler;
  /** What the rollout and schema operations (rollouts.ts, schemas.ts) use of this object. */
  private readonly core: StoreCore;
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
    this.core = {
      sql: this.sql,
      transaction: (work) => ctx.storage.transactionSync(work),
      locked: (work) => this.writes.run(work),
      commitVersion: async (change, body, options) =>
        this.commitVersion(await originConfig(this.env), change, body, options),
      distribute: (key) => this.distribute(key),
    };
    // A drain cut short by eviction leaves outbox rows behind: make sure an alarm will find them.
    if (tables.listOutbox(this.sql).length > 0)
      void ctx.blockConcurrencyWhile(() => this.drains.ensureAlarm());
  }

  async publish(input: PublishInput): Promise<StoreResult<WriteOutcome>> {
    const config = await originConfig(this.env);
    const digest = contentDigestOf(await sha256(input.body));
    const result = await this.writes.run(async () => {
      const plan = planPublish(this.sql, input, digest);
      if (plan.kind === "answer") return plan.result;
      const record = await this.commitVersion(config, input, input.body, plan.options);
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
      const conflict = rollouts.rolloutConflict(this.sql, input.key, "a rollback");
      if (conflict) return failure<Committed>("conflict", conflict);
      if (live && live.digest === target.digest && live.size === target.size) {
        return success<Committed>({ created: false, record: live });
      }
      const body = tables.readBody(this.sql, input.key, input.to);
      const invalid = schemas.schemaViolation<Committed>(this.sql, input.key, body, `Version ${input.to}`);
      if (invalid) return invalid;
      const record = await this.commitVersion(config, input, body, {
        action: "rollback",
        live,
        detail: { to: input.to },
      });
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
      const conflict = rollouts.rolloutConflict(this.sql, input.key, "a delete");
      if (conflict) return failure<{ version: number; at: number }>("conflict", conflict);
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

  /** The namespace's keys, rollouts, outbox and recent errors, for GET /v1/status (status.ts). */
  status(): NamespaceStatus {
    return namespaceStatus(this.sql);
  }

  rolloutStatus(key: string): StoreResult<RolloutView> {
    return rollouts.rolloutView(this.sql, key);
  }

  updateRollout(input: RolloutUpdateInput): Promise<StoreResult<RolloutChange>> {
    return rollouts.updateRollout(this.core, input);
  }

  completeRollout(input: ChangeMeta): Promise<StoreResult<RolloutChange>> {
    return rollouts.completeRollout(this.core, input);
  }

  abortRollout(input: ChangeMeta): Promise<StoreResult<WriteOutcome & { view: RolloutView }>> {
    return rollouts.abortRollout(this.core, input);
  }

  putSchema(input: SchemaInput): Promise<StoreResult<SchemaOutcome>> {
    return schemas.putSchema(this.core, input);
  }

  schema(key: string): StoreResult<SchemaRecord> {
    return schemas.getSchema(this.sql, key);
  }

  deleteSchema(input: ChangeMeta): Promise<StoreResult<SchemaRecord>> {
    return schemas.removeSchema(this.core, input);
  }

  /** The two versions' bytes for a diff (the patch is computed by the caller, outside the object). */
  diffSides(
    key: string,
    from: VersionRef,
    to: VersionRef,
  ): StoreResult<{ from: StoredVersion; to: StoredVersion }> {
    return diffSides(this.sql, key, from, to);
  }

  override async alarm(): Promise<void> {
    await this.drains.request();
  }

  /**
   * Signs the snapshot, then commits version, key row, audit entry and outbox row at once. When
   * starting a rollout the key's live version stays `options.live` and the rollout row is added.
   */
  private async commitVersion(
    config: OriginConfig,
    change: ChangeMeta,
    body: Uint8Array,
    options: CommitOptions,
  ): Promise<VersionRecord> {
    const { action, live, detail, startRollout } = options;
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
        current_version: startRollout && live ? live.version : version,
        deleted: 0,
        next_version: version + 1,
        updated_at: publishedAt,
      });
      if (startRollout && live) {
        insertRollout(this.sql, {
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
