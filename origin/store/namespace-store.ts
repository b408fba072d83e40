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
import { type HeadRecord, logLine, type NamespaceSettings, parseBundleKey } from "../../core";
import { originConfig } from "../config";
import { type DistributionDeps, headRecordOf } from "../distribution/drain";
import { armFreshnessAlarm, enqueueDueProofs } from "../distribution/freshness-clock";
import { purgerFor } from "../distribution/purger-for";
import { DrainScheduler } from "../distribution/scheduler";
import { type BundleOutcome, type BundleView, bundleHead } from "./bundle-tables";
import * as bundles from "./bundles";
import { changeSetFacts, holdAs, keyFacts, publishFacts } from "./change-request-hold";
import { listRequests } from "./change-request-tables";
import { type ApprovedChange, approveRequest, rejectRequest, requestWithContent } from "./change-requests";
import { applyChangeSet, type ChangeSetInput, type ChangeSetOutcome } from "./change-sets";
import { commitChange, commitVersion } from "./commit";
import { diffSides, type VersionRef } from "./diff-sides";
import * as keySchemas from "./key-schemas";
import { notFound, publishKey, removeKey, rollbackKey } from "./key-writes";
import { runMigrations, startUp } from "./migrations";
import { AsyncMutex } from "./mutex";
import { NAMESPACE_MIGRATIONS } from "./namespace-migrations";
import { redactedDetail, redactKeyVersion } from "./redaction";
import { failure, type StoreResult, success } from "./result";
import { listRunningRollouts, readRunningRollout } from "./rollout-tables";
import * as rollouts from "./rollouts";
import { type RootInput, type RootStoredOutcome, storeRoot } from "./roots";
import { type NamespaceStatus, namespaceStatus } from "./status";
import type { StoreCore, StoreEnv } from "./store-core";
import * as tables from "./tables";
import {
  type AuditPage,
  type AuditQuery,
  type ChangeMeta,
  type ChangeRequestPage,
  type ChangeRequestQuery,
  type ChangeRequestRecord,
  type DecisionInput,
  type DeleteInput,
  type DeleteOutcome,
  type Distribution,
  type HealthAbortInput,
  type HeldChange,
  type HistoryPage,
  isHeld,
  type PublishInput,
  type RedactInput,
  type RedactOutcome,
  type RollbackInput,
  type RolloutChange,
  type RolloutSpec,
  type RolloutUpdateInput,
  type RolloutView,
  type SchemaInput,
  type SchemaOutcome,
  type SchemaRecord,
  type SettingsOutcome,
  type SettingsPatch,
  type StoredVersion,
  type TokenAuditInput,
  type WriteOutcome,
} from "./types";

export class NamespaceStore extends DurableObject<StoreEnv> {
  private readonly sql: SqlStorage;
  private readonly writes = new AsyncMutex();
  private readonly drains: DrainScheduler;
  /** What the write operations (key-writes.ts, rollouts.ts, key-schemas.ts) use of this object. */
  private readonly core: StoreCore;
  /**
   * Test seam: replaces the KV writer and/or purger the drain uses. An instance field, not a
   * method, so it is not callable over RPC; tests set it inside `runInDurableObject`.
   */
  distributionOverride: Partial<DistributionDeps> | null = null;
  /**
   * Test seam, as distributionOverride: the clock Config-Freshness proofs are signed and re-signed
   * by (milliseconds), so a test can age proofs to half-life and drive the alarm without waiting.
   */
  clock: () => number = Date.now;

  constructor(ctx: DurableObjectState, env: StoreEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.drains = new DrainScheduler(
      ctx.storage,
      () => this.distributionDeps(),
      () => armFreshnessAlarm(ctx.storage, this.clock()),
    );
    this.core = {
      sql: this.sql,
      transaction: (work) => ctx.storage.transactionSync(work),
      locked: (work) => this.writes.run(work),
      commitVersion: async (change, body, options) =>
        commitVersion(this.core, await originConfig(this.env), change, body, options),
      signingKey: async () => (await originConfig(this.env)).signing,
      distribute: (key) => this.distribute(key),
    };
    // No call is delivered before this finishes, so every method sees the current schema. If it
    // throws, workerd resets the object and the waiting calls fail with the error (logged here).
    startUp(ctx, "NamespaceStore", async () => {
      runMigrations(this.sql, this.core.transaction, NAMESPACE_MIGRATIONS);
      // A drain cut short by eviction leaves outbox rows behind: make sure an alarm will find them.
      if (tables.listOutbox(this.sql).length > 0) await this.drains.ensureAlarm();
    });
  }

  /** Publishes, or holds the publish as a change request when the namespace needs approval. */
  async publish(input: PublishInput): Promise<StoreResult<WriteOutcome | HeldChange>> {
    const hold = holdAs(this.core, input.namespace, input.actor, this.clock(), (d) => publishFacts(input, d));
    const outcome = await publishKey(this.core, input, hold);
    if (outcome.ok && !isHeld(outcome.value))
      await this.watchStarted(input.namespace, input.key, input.rollout, outcome.value);
    return outcome;
  }

  /** A rollout start with health gates is handed to the FleetStore once committed. */
  private async watchStarted(
    namespace: string,
    key: string,
    rollout: RolloutSpec | null | undefined,
    outcome: WriteOutcome,
  ): Promise<void> {
    const gates = rollout?.gates;
    if (outcome.created && gates && gates.maxRejected !== null)
      await this.watchGate(namespace, key, gates.maxRejected, gates.minClients);
  }

  /**
   * Hands a gated rollout to the namespace's FleetStore, which holds the sightings the gate
   * decides on and checks it by alarm. After the commit: a failure is logged (and the rollout runs
   * ungated, as the log line says), never a failed publish of a version already committed.
   */
  private async watchGate(
    namespace: string,
    key: string,
    maxRejected: number,
    minClients: number,
  ): Promise<void> {
    const running = readRunningRollout(this.sql, key);
    const fleet = this.env.FLEET;
    if (!running || !fleet) return;
    try {
      await fleet.get(fleet.idFromName(namespace)).watch({
        namespace,
        key,
        candidate: running.candidateVersion,
        stable: running.stableVersion,
        startedAt: running.startedAt,
        maxRejected,
        minClients,
      });
    } catch (error) {
      logLine({ part: "origin", event: "gate_watch_failed", key, error: String(error) });
    }
  }

  rollback(input: RollbackInput): Promise<StoreResult<WriteOutcome | HeldChange>> {
    const facts = (digest: string | null) => keyFacts("rollback", input, digest);
    return rollbackKey(
      this.core,
      input,
      holdAs(this.core, input.namespace, input.actor, this.clock(), facts),
    );
  }

  remove(input: DeleteInput): Promise<StoreResult<DeleteOutcome | HeldChange>> {
    const facts = (digest: string | null) => keyFacts("delete", input, digest);
    return removeKey(this.core, input, holdAs(this.core, input.namespace, input.actor, this.clock(), facts));
  }

  /** Pending (or other) change requests, newest first. */
  changeRequests(namespace: string, query: ChangeRequestQuery): ChangeRequestPage {
    const rows = listRequests(this.sql, namespace, { ...query, limit: query.limit + 1 }, this.clock());
    const requests = rows.slice(0, query.limit);
    const last = requests.at(-1);
    return { requests, nextBefore: rows.length > query.limit && last ? last.id : null };
  }

  changeRequest(namespace: string, id: number) {
    return requestWithContent(this.core, namespace, id, this.clock());
  }

  /** Applies a pending request by another admin (change-requests.ts). */
  async approveChange(input: DecisionInput): Promise<StoreResult<ApprovedChange>> {
    const result = await approveRequest(this.core, input, this.clock());
    // An approved rollout start with health gates is watched as a direct one is.
    if (result.ok && result.value.kind === "publish" && result.value.request.key) {
      const { request, outcome } = result.value;
      await this.watchStarted(input.namespace, request.key ?? "", request.rollout, outcome);
    }
    return result;
  }

  rejectChange(input: DecisionInput): Promise<StoreResult<ChangeRequestRecord>> {
    return rejectRequest(this.core, input, this.clock());
  }

  redact(input: RedactInput): Promise<StoreResult<RedactOutcome>> {
    return redactKeyVersion(this.core, input);
  }

  /** Trust roots live in the `*` object (routes/roots.ts calls only that one). */
  async putRoot(input: RootInput): Promise<StoreResult<RootStoredOutcome & { distribution: Distribution }>> {
    const result = await storeRoot(this.core, input);
    if (!result.ok) return result;
    await this.drains.request();
    const distribution = tables.isPending(this.sql, "root", "root") ? "pending" : "complete";
    return success({ ...result.value, distribution });
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
    if (record.redactedAt !== undefined) return failure("gone", redactedDetail(key, version));
    const row = tables.readKey(this.sql, key);
    const current = row !== null && !row.deleted && row.current_version === version;
    return success({ record, body: tables.readBody(this.sql, key, version), current });
  }

  /**
   * The key's head as the drain writes it to KV, with the stored Config-Freshness proofs (for the
   * edge's `/internal/heads`, routes/internal-heads.ts); null when never published.
   */
  head(key: string): HeadRecord | null {
    return headRecordOf(this.sql, key);
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

  async updateSettings(
    namespace: string,
    patch: SettingsPatch,
    actor: string,
  ): Promise<StoreResult<SettingsOutcome>> {
    const written = await this.writes.run(
      async (): Promise<StoreResult<{ settings: NamespaceSettings; changed: boolean }>> => {
        const before = tables.readSettings(this.sql);
        const after: NamespaceSettings = { ...before, ...patch };
        const fields = (Object.keys(after) as (keyof NamespaceSettings)[]).filter(
          (f) => after[f] !== before[f],
        );
        if (fields.length === 0) return success({ settings: before, changed: false });
        const unreviewed =
          after.approval === "required" && before.approval !== "required"
            ? listRunningRollouts(this.sql).map((r) => r.key)
            : [];
        if (unreviewed.length > 0) {
          // Completing or widening a rollout is not held (its start was reviewed): a candidate
          // started before approval was required would reach everyone unreviewed.
          return failure(
            "conflict",
            `Rollouts are running in ${namespace} (${unreviewed.slice(0, 5).join(", ")}${unreviewed.length > 5 ? ", …" : ""}): their candidates were never reviewed. Complete or abort them, then require approval.`,
          );
        }
        const at = Date.now();
        commitChange(this.core, {
          at,
          write: () => {
            tables.writeSettings(this.sql, after, at);
            // A new freshness lifetime applies at once: every live key's head is re-signed.
            if (fields.includes("freshnessTtl")) {
              for (const { key } of this.sql.exec<{ key: string }>(
                "SELECT key FROM keys WHERE deleted = 0",
              )) {
                tables.enqueue(this.sql, "key", key, at);
              }
            }
          },
          audit: {
            ...noVersions(actor, "namespace"),
            detail: Object.fromEntries(
              fields.map((f) => [f, { from: before[f] ?? null, to: after[f] ?? null }]),
            ),
          },
          outbox: { kind: "namespace", target: namespace },
          log: { namespace, fields, actor },
        });
        return success({ settings: after, changed: true });
      },
    );
    if (!written.ok) return written;
    await this.drains.request();
    const distribution = tables.isPending(this.sql, "namespace", namespace) ? "pending" : "complete";
    return success({ ...written.value, distribution });
  }

  /** Audits a minted read token: its scope and expiry, never the token. */
  recordToken(input: TokenAuditInput): void {
    commitChange(this.core, {
      at: Date.now(),
      audit: {
        ...noVersions(input.actor, "token"),
        detail: { scope: input.scope, expiresAt: new Date(input.expiresAt).toISOString() },
      },
      outbox: null,
      log: { scope: input.scope, actor: input.actor, expiresAt: input.expiresAt },
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
    return this.endGateWith(input.namespace, rollouts.completeRollout(this.core, input));
  }

  abortRollout(input: ChangeMeta): Promise<StoreResult<WriteOutcome & { view: RolloutView }>> {
    return this.endGateWith(input.namespace, rollouts.abortRollout(this.core, input));
  }

  /** An automatic abort (FleetStore's health gate, or the external alarm route). */
  abortForHealth(input: HealthAbortInput): Promise<StoreResult<WriteOutcome & { view: RolloutView }>> {
    const aborting = rollouts.abortForHealth(this.core, input);
    // A tripped gate ends its own watch in FleetStore; an external alarm's abort must end it here.
    return input.autoAbort.trigger === "health-gate" ? aborting : this.endGateWith(input.namespace, aborting);
  }

  /**
   * Once a gated rollout has ended (completed, or aborted by a person or an alarm), tells the
   * namespace's FleetStore to stop watching it, so its 5 s gate alarm stops with the rollout.
   * After the commit, like watchGate: a failure is logged, never a failed request (the gate check
   * of an ended rollout is refused by abortForHealth anyway).
   */
  private async endGateWith<T extends { view: RolloutView }>(
    namespace: string,
    ending: Promise<StoreResult<T>>,
  ): Promise<StoreResult<T>> {
    const result = await ending;
    const ended = result.ok ? result.value.view.rollout : null;
    const fleet = this.env.FLEET;
    if (!ended || ended.endedAt === null || ended.gates?.maxRejected == null || !fleet) return result;
    try {
      await fleet.get(fleet.idFromName(namespace)).unwatch(ended.key, ended.candidateVersion);
    } catch (error) {
      logLine({ part: "origin", event: "gate_unwatch_failed", key: ended.key, error: String(error) });
    }
    return result;
  }

  putSchema(input: SchemaInput): Promise<StoreResult<SchemaOutcome>> {
    return keySchemas.putSchema(this.core, input);
  }

  schema(key: string): StoreResult<SchemaRecord> {
    return keySchemas.getSchema(this.sql, key);
  }

  deleteSchema(input: ChangeMeta): Promise<StoreResult<SchemaRecord>> {
    return keySchemas.removeSchema(this.core, input);
  }

  /** Defines or redefines a bundle (bundles.ts). */
  putBundle(
    input: bundles.BundleInput,
  ): Promise<StoreResult<BundleOutcome & { distribution: Distribution }>> {
    return bundles.putBundle(this.core, input);
  }

  bundle(namespace: string, name: string): StoreResult<BundleView> {
    return bundles.getBundle(this.sql, namespace, name);
  }

  /** The head the drain writes for a bundle's manifest, for the edge's consistent head source. */
  bundleHead(namespace: string, name: string): HeadRecord | null {
    return bundleHead(this.sql, namespace, name);
  }

  /** Applies a change set all or nothing (change-sets.ts). */
  async applyChanges(input: ChangeSetInput): Promise<StoreResult<ChangeSetOutcome | HeldChange>> {
    const facts = await changeSetFacts(input);
    return applyChangeSet(
      this.core,
      input,
      holdAs(this.core, input.namespace, input.actor, this.clock(), () => facts),
    );
  }

  /** The two versions' bytes for a diff (the patch is computed by the caller, outside the object). */
  diffSides(
    key: string,
    from: VersionRef,
    to: VersionRef,
  ): StoreResult<{ from: StoredVersion; to: StoredVersion }> {
    return diffSides(this.sql, key, from, to);
  }

  /**
   * Drain retries and Config-Freshness re-signing share the one alarm: keys whose proofs reached
   * half-life go back in the outbox, then one drain signs them and retries anything pending.
   */
  override async alarm(): Promise<void> {
    enqueueDueProofs(this.sql, this.clock());
    await this.drains.request();
  }

  /** Drains now and tells whether this key's change has fully reached KV and the edge. */
  private async distribute(key: string): Promise<Distribution> {
    await this.drains.request();
    const bundle = parseBundleKey(key);
    const pending = bundle
      ? tables.isPending(this.sql, "bundle", bundle.name)
      : tables.isPending(this.sql, "key", key) || tables.isPending(this.sql, "redaction", key);
    return pending ? "pending" : "complete";
  }

  private async distributionDeps(): Promise<DistributionDeps> {
    const override = this.distributionOverride;
    const config = await originConfig(this.env);
    return {
      kv: override?.kv ?? this.env.CONFIGS,
      deleteKv: override?.deleteKv ?? ((name) => this.env.CONFIGS.delete(name)),
      purger: override?.purger ?? purgerFor(config.purge, this.env),
      signer: override?.signer ?? config.signing,
      namespace: tables.readMeta(this.sql, "namespace"),
      ...(override?.kvTimeoutMs === undefined ? {} : { kvTimeoutMs: override.kvTimeoutMs }),
      nowSeconds: override?.nowSeconds ?? (() => Math.floor(this.clock() / 1000)),
    };
  }
}

/** The audit fields of a namespace-wide entry, which concerns no key and no version. */
function noVersions(actor: string, action: "namespace" | "token") {
  return { actor, action, key: null, message: null, fromVersion: null, toVersion: null, digest: null };
}
