/**
 * FleetStore: one SQLite-backed Durable Object per namespace (`idFromName(namespace)`) holding the
 * last time each client was seen polling each key of the namespace at the edge, and which version
 * it was served (docs/operations.md, "Fleet view"). Telemetry, not truth: a lost batch only makes
 * the view a few seconds older.
 *
 * Kept apart from the NamespaceStore on purpose: the edge's batches arrive every few seconds from
 * every location, and must neither queue behind publishes in that object nor share its one alarm,
 * which the distribution retries own. Rows older than the longest window are deleted by alarm.
 *
 * Bounded against a skewed or flooding fleet: at most MAX_CLIENTS_PER_KEY rows per key (a new
 * client past it replaces only a row idle for longer than the default window, else it is refused
 * and counted); the view is counted in SQL (GROUP BY), never loaded row by row; a report in
 * `Config-Client-Status` counts only for a version the client was recorded being served.
 *
 * It also runs the rollouts' health gates (docs/rollouts.md, "Health gates"): a gated rollout is
 * watched here, and the alarm, every GATE_CHECK_MS while one is watched, aborts it through the
 * namespace's NamespaceStore when the candidate's rejected share crosses `max-rejected`.
 */
import { DurableObject } from "cloudflare:workers";
import {
  bucketOf,
  cohortBound,
  DEFAULT_FLEET_WINDOW_SECONDS,
  type FleetExpectation,
  type FleetGroup,
  type FleetReportGroup,
  type FleetSighting,
  logLine,
  MAX_FLEET_WINDOW_SECONDS,
  mergeClientStatus,
} from "../../core";
import { type FleetShardVars, gateFiguresAcross, shardCount, shardName } from "./fleet-shards";

export type { GateFigures, GateWatch } from "./fleet-types";

import type { FleetShardReader, GateCounts, GateFigures, GateWatch, HealthAborter } from "./fleet-types";
import { type Migration, runMigrations, startUp } from "./migrations";

/** How often expired sightings are swept. */
export const FLEET_SWEEP_MS = 15 * 60 * 1000;
/** How often a watched rollout's health is checked: with the edge's 2 s flush, an abort within 15 s. */
export const GATE_CHECK_MS = 5000;
/**
 * Rows kept per key. 100,000 clients of one key is a large fleet; past it a flood of made-up ids
 * cannot grow the table or push out clients that keep polling (docs/capacity.md, "FleetStore").
 */
export const MAX_CLIENTS_PER_KEY = 100_000;
const RETENTION_MS = MAX_FLEET_WINDOW_SECONDS * 1000;
const IDLE_MS = DEFAULT_FLEET_WINDOW_SECONDS * 1000;

/** The FleetStore's SQLite schema as numbered migrations (migrations.ts); append, never edit. */
export const FLEET_MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: "last_seen",
    // IF NOT EXISTS: objects created before migrations were recorded already have these.
    statements: [
      // The last sighting of each client per key; a later batch only replaces it with a later sighting,
      // since batches from different isolates and locations arrive in any order.
      `CREATE TABLE IF NOT EXISTS last_seen (
    key TEXT NOT NULL,
    client_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    seen_at INTEGER NOT NULL,
    colo TEXT,
    PRIMARY KEY (key, client_id)
  )`,
      "CREATE INDEX IF NOT EXISTS last_seen_by_key_time ON last_seen (key, seen_at)",
      "CREATE INDEX IF NOT EXISTS last_seen_by_time ON last_seen (seen_at)",
    ],
  },
  {
    id: 2,
    name: "client status, cohort bucket, per-key counts, health gates",
    statements: [
      // bucket: core bucketOf(key, client), stored so the view counts cohorts in SQL.
      "ALTER TABLE last_seen ADD COLUMN bucket INTEGER NOT NULL DEFAULT 0",
      // previous: the version served before `version`, so a report for it still counts.
      "ALTER TABLE last_seen ADD COLUMN previous INTEGER",
      "ALTER TABLE last_seen ADD COLUMN applied INTEGER",
      "ALTER TABLE last_seen ADD COLUMN rejected INTEGER",
      "ALTER TABLE last_seen ADD COLUMN reason TEXT",
      "ALTER TABLE last_seen ADD COLUMN subject TEXT",
      "CREATE INDEX last_seen_by_key_rejected ON last_seen (key, rejected) WHERE rejected IS NOT NULL",
      "CREATE INDEX last_seen_by_key_applied ON last_seen (key, applied) WHERE applied IS NOT NULL",
      // Rows per key, kept beside the table so the cap costs one lookup, not a COUNT(*) per batch.
      "CREATE TABLE key_clients (key TEXT PRIMARY KEY, clients INTEGER NOT NULL)",
      "INSERT INTO key_clients (key, clients) SELECT key, COUNT(*) FROM last_seen GROUP BY key",
      // A gated rollout being watched (one per key: a key runs one rollout at a time).
      `CREATE TABLE gates (
    key TEXT PRIMARY KEY,
    candidate INTEGER NOT NULL,
    stable INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    max_rejected REAL NOT NULL,
    min_clients INTEGER NOT NULL
  )`,
    ],
  },
  {
    id: 3,
    name: "continent of a sighting",
    // `request.cf.continent`, so the view can tell a ring's clients by continent (core/rings.ts).
    statements: ["ALTER TABLE last_seen ADD COLUMN continent TEXT"],
  },
];

export interface FleetRecordOutcome {
  stored: number;
  /** New clients refused because their key was at MAX_CLIENTS_PER_KEY. */
  refused: number;
  /** Reports naming a version the client was never recorded being served (not counted). */
  unserved: number;
  /** Sightings whose client id was first seen with another read-token subject (not stored). */
  foreign: number;
}

type Row = {
  version: number;
  previous: number | null;
  seen_at: number;
  subject: string | null;
  applied: number | null;
  rejected: number | null;
  reason: string | null;
};

interface FleetEnv extends FleetShardVars {
  FLEET?: DurableObjectNamespace<FleetStore>;
  NAMESPACES?: DurableObjectNamespace<HealthAborter>;
}

export class FleetStore extends DurableObject<FleetEnv> {
  private readonly sql: SqlStorage;
  /** The namespace this object serves, learnt from its first watch (idFromName keeps no name). */
  private namespace: string | null = null;

  constructor(ctx: DurableObjectState, env: FleetEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    startUp(ctx, "FleetStore", async () => {
      runMigrations(this.sql, (work) => ctx.storage.transactionSync(work), FLEET_MIGRATIONS);
    });
  }

  /** Upserts a batch's sightings of this namespace's keys in one transaction. */
  async record(sightings: FleetSighting[]): Promise<FleetRecordOutcome> {
    const outcome: FleetRecordOutcome = { stored: 0, refused: 0, unserved: 0, foreign: 0 };
    this.ctx.storage.transactionSync(() => {
      for (const s of sightings) this.recordOne(s, outcome);
    });
    await this.ensureAlarm(Date.now() + FLEET_SWEEP_MS);
    return outcome;
  }

  private recordOne(s: FleetSighting, outcome: FleetRecordOutcome): void {
    const held = this.sql
      .exec<Row>(
        "SELECT version, previous, seen_at, subject, applied, rejected, reason FROM last_seen WHERE key = ? AND client_id = ?",
        s.key,
        s.clientId,
      )
      .toArray()[0];
    const subject = s.subject ?? null;
    if (held && held.subject !== null && held.subject !== subject) {
      outcome.foreign++;
      return;
    }
    // Batches arrive in any order: an older sighting never replaces a newer one.
    if (held && held.seen_at > s.seenAt) return;
    const served = new Set<number>([s.version]);
    for (const v of [s.previous, held?.version, held?.previous]) if (v != null) served.add(v);
    const report = (v: number | null | undefined): number | null => {
      if (v == null) return null;
      if (served.has(v)) return v;
      outcome.unserved++;
      return null;
    };
    const rejectedNow = report(s.rejected);
    // Folded, not replaced: this sighting may carry an older report than the row's, from a
    // request its client gave up that reached the edge after its replacement (mergeClientStatus).
    const { applied, rejected, reason } = mergeClientStatus(
      { applied: held?.applied ?? null, rejected: held?.rejected ?? null, reason: held?.reason ?? null },
      {
        applied: report(s.applied),
        rejected: rejectedNow,
        reason: rejectedNow === null ? null : (s.reason ?? null),
      },
    );
    // The last version served before this one: this isolate's, else the row's if it changed now.
    const previous =
      s.previous ?? (held && held.version !== s.version ? held.version : (held?.previous ?? null));
    if (!held && !this.admit(s.key, s.seenAt)) {
      outcome.refused++;
      return;
    }
    this.sql.exec(
      `INSERT INTO last_seen (key, client_id, version, seen_at, colo, continent, bucket, previous, applied, rejected, reason, subject)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (key, client_id) DO UPDATE SET
         version = excluded.version, seen_at = excluded.seen_at, colo = excluded.colo,
         continent = excluded.continent,
         previous = excluded.previous, applied = excluded.applied, rejected = excluded.rejected,
         reason = excluded.reason, subject = excluded.subject`,
      s.key,
      s.clientId,
      s.version,
      s.seenAt,
      s.colo,
      s.continent ?? null,
      bucketOf(s.key, s.clientId),
      previous,
      applied,
      rejected,
      reason,
      subject,
    );
    outcome.stored++;
  }

  /** Room for a new client of `key`: below the cap, or by replacing its longest-idle row. */
  private admit(key: string, nowMs: number): boolean {
    const count = this.sql
      .exec<{ clients: number }>("SELECT clients FROM key_clients WHERE key = ?", key)
      .toArray()[0]?.clients;
    if (count === undefined) {
      this.sql.exec("INSERT INTO key_clients (key, clients) VALUES (?, 1)", key);
      return true;
    }
    if (count < MAX_CLIENTS_PER_KEY) {
      this.sql.exec("UPDATE key_clients SET clients = clients + 1 WHERE key = ?", key);
      return true;
    }
    // At the cap: only a client idle past the default window makes room, so ids that keep
    // polling are never pushed out by a flood of new ones.
    return (
      this.sql.exec(
        `DELETE FROM last_seen WHERE rowid IN (SELECT rowid FROM last_seen WHERE key = ? AND seen_at < ?
           ORDER BY seen_at LIMIT 1)`,
        key,
        nowMs - IDLE_MS,
      ).rowsWritten > 0
    );
  }

  /** This shard's counts for the fleet view of one key since `sinceMs` (fleet-shards.ts folds them). */
  viewGroups(
    expectation: FleetExpectation,
    sinceMs: number,
    nowMs: number,
  ): { groups: FleetGroup[]; reports: FleetReportGroup[] } {
    const bound = cohortBound(expectation.rollout, nowMs);
    const groups = this.sql
      .exec<{
        version: number;
        colo: string | null;
        continent: string | null;
        in_cohort: number;
        clients: number;
      }>(
        `SELECT version, colo, continent, bucket < ? AS in_cohort, COUNT(*) AS clients FROM last_seen
         WHERE key = ? AND seen_at >= ? GROUP BY version, colo, continent, in_cohort`,
        bound,
        expectation.key,
        sinceMs,
      )
      .toArray()
      .map(
        (g): FleetGroup => ({
          version: g.version,
          colo: g.colo,
          continent: g.continent,
          inCohort: g.in_cohort === 1,
          clients: g.clients,
        }),
      );
    const reports = (column: "applied" | "rejected") =>
      this.sql
        .exec<{
          reported: number;
          colo: string | null;
          continent: string | null;
          in_cohort: number;
          clients: number;
        }>(
          // Grouped by position: in SQLite a GROUP BY name matches the table's `version` column
          // before an alias, which would group these reports by the version served instead.
          `SELECT ${column} AS reported, colo, continent, bucket < ? AS in_cohort, COUNT(*) AS clients
           FROM last_seen WHERE key = ? AND seen_at >= ? AND ${column} IS NOT NULL GROUP BY 1, 2, 3, 4`,
          bound,
          expectation.key,
          sinceMs,
        )
        .toArray()
        .map(
          (g): FleetReportGroup => ({
            version: g.reported,
            colo: g.colo,
            continent: g.continent,
            inCohort: g.in_cohort === 1,
            applied: column === "applied" ? g.clients : 0,
            rejected: column === "rejected" ? g.clients : 0,
          }),
        );
    return { groups, reports: [...reports("applied"), ...reports("rejected")] };
  }

  /** Per key: clients seen in the window (for the status page). */
  activeClients(sinceMs: number): { key: string; clients: number }[] {
    return this.sql
      .exec<{ key: string; clients: number }>(
        "SELECT key, COUNT(*) AS clients FROM last_seen WHERE seen_at >= ? GROUP BY key ORDER BY key",
        sinceMs,
      )
      .toArray();
  }

  /** Starts watching a gated rollout (replacing any earlier watch of the key). */
  async watch(gate: GateWatch): Promise<void> {
    this.namespace = gate.namespace;
    await this.ctx.storage.put("namespace", gate.namespace);
    this.sql.exec(
      `INSERT INTO gates (key, candidate, stable, started_at, max_rejected, min_clients) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET candidate = excluded.candidate, stable = excluded.stable,
         started_at = excluded.started_at, max_rejected = excluded.max_rejected, min_clients = excluded.min_clients`,
      gate.key,
      gate.candidate,
      gate.stable,
      gate.startedAt,
      gate.maxRejected,
      gate.minClients,
    );
    await this.ensureAlarm(Date.now() + GATE_CHECK_MS);
  }

  /** Stops watching the key's rollout of `candidate` (it completed or was aborted). */
  unwatch(key: string, candidate: number): void {
    this.sql.exec("DELETE FROM gates WHERE key = ? AND candidate = ?", key, candidate);
  }

  /** This shard's part of a gate's figures: the candidate's reports since the rollout started. */
  gateCounts(gate: Pick<GateWatch, "key" | "candidate" | "startedAt">): GateCounts {
    const row = this.sql
      .exec<{ reporting: number | null; rejected: number | null }>(
        `SELECT COUNT(*) AS reporting, SUM(rejected = ?1) AS rejected
         FROM last_seen WHERE key = ?2 AND seen_at >= ?3 AND (applied = ?1 OR rejected = ?1)`,
        gate.candidate,
        gate.key,
        gate.startedAt,
      )
      .one();
    const reporting = row.reporting ?? 0;
    const rejected = row.rejected ?? 0;
    const reasons = this.sql
      .exec<{ reason: string; clients: number }>(
        `SELECT reason, COUNT(*) AS clients FROM last_seen WHERE key = ? AND rejected = ? AND seen_at >= ?
           AND reason IS NOT NULL GROUP BY reason ORDER BY clients DESC LIMIT 5`,
        gate.key,
        gate.candidate,
        gate.startedAt,
      )
      .toArray();
    return { reporting, rejected, reasons };
  }

  /** The namespace's shards (this one included) as the gate check reads them. */
  private shards(namespace: string): FleetShardReader[] {
    const fleet = this.env.FLEET;
    if (!fleet) return [this.asReader()];
    return Array.from({ length: shardCount(this.env) }, (_, i) =>
      fleet.get(fleet.idFromName(shardName(namespace, i))),
    );
  }

  /** This object's own counts, when there is no binding to reach the others (single-shard tests). */
  private asReader(): FleetShardReader {
    return {
      viewGroups: async (e, s, n) => this.viewGroups(e, s, n),
      activeClients: async (s) => this.activeClients(s),
      gateCounts: async (g) => this.gateCounts(g),
    };
  }

  /** Checks every watched gate, aborting the rollouts that crossed theirs. */
  async checkGates(nowMs: number): Promise<{ key: string; tripped: boolean; figures: GateFigures }[]> {
    const gates = this.sql
      .exec<{
        key: string;
        candidate: number;
        stable: number;
        started_at: number;
        max_rejected: number;
        min_clients: number;
      }>("SELECT * FROM gates")
      .toArray();
    const results: { key: string; tripped: boolean; figures: GateFigures }[] = [];
    for (const g of gates) {
      const gate = {
        key: g.key,
        candidate: g.candidate,
        startedAt: g.started_at,
        maxRejected: g.max_rejected,
        minClients: g.min_clients,
      };
      this.namespace ??= (await this.ctx.storage.get<string>("namespace")) ?? null;
      if (this.namespace === null) continue;
      const figures = await gateFiguresAcross(this.shards(this.namespace), gate);
      const tripped =
        figures.reporting >= figures.minClients && figures.rejectedPercent > figures.maxRejected;
      results.push({ key: g.key, tripped, figures });
      if (!tripped) continue;
      await this.abortForGate(g.key, g.candidate, figures, nowMs);
      this.unwatch(g.key, g.candidate);
    }
    return results;
  }

  /**
   * Asks the NamespaceStore to abort the rollout of `candidate`. Either way the watch ends: it
   * aborted, or the rollout had already ended (completed, aborted by a person, or superseded).
   */
  private async abortForGate(
    key: string,
    candidate: number,
    figures: GateFigures,
    nowMs: number,
  ): Promise<void> {
    this.namespace ??= (await this.ctx.storage.get<string>("namespace")) ?? null;
    const stores = this.env.NAMESPACES;
    if (!stores || this.namespace === null) return;
    const store = stores.get(stores.idFromName(this.namespace));
    const outcome = await store.abortForHealth({
      namespace: this.namespace,
      key,
      candidate,
      autoAbort: { trigger: "health-gate", at: nowMs, ...figures },
    });
    // The line to alert on: one per automatic abort, with the figures (never a token or content).
    logLine({
      part: "origin",
      event: "rollout_auto_abort",
      key,
      candidate,
      outcome: outcome.ok ? "aborted" : outcome.code,
      reporting: figures.reporting,
      rejected: figures.rejected,
      rejectedPercent: figures.rejectedPercent,
      maxRejected: figures.maxRejected,
      checkedAt: new Date(nowMs).toISOString(),
    });
  }

  /** Gate checks every GATE_CHECK_MS while a gate is watched; sweeps every FLEET_SWEEP_MS. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    await this.checkGates(now);
    const sweepDue = (await this.ctx.storage.get<number>("sweepAt")) ?? 0;
    if (now >= sweepDue) {
      this.sweep(now);
      await this.ctx.storage.put("sweepAt", now + FLEET_SWEEP_MS);
    }
    const watching = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM gates").one().n > 0;
    const left = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM last_seen").one().n > 0;
    if (watching) await this.ctx.storage.setAlarm(now + GATE_CHECK_MS);
    else if (left) await this.ctx.storage.setAlarm(now + FLEET_SWEEP_MS);
  }

  /** Sets the alarm for `atMs` unless one is already due sooner. */
  private async ensureAlarm(atMs: number): Promise<void> {
    const set = await this.ctx.storage.getAlarm();
    if (set === null || set > atMs) await this.ctx.storage.setAlarm(atMs);
  }

  /** Removes sightings older than the retention; returns how many. */
  sweep(nowMs: number): number {
    const removed = this.sql.exec(
      "DELETE FROM last_seen WHERE seen_at < ?",
      nowMs - RETENTION_MS,
    ).rowsWritten;
    if (removed > 0) {
      // Rare (every 15 min): recount rather than track each deleted row's key.
      this.sql.exec("DELETE FROM key_clients");
      this.sql.exec(
        "INSERT INTO key_clients (key, clients) SELECT key, COUNT(*) FROM last_seen GROUP BY key",
      );
    }
    return removed;
  }
}
