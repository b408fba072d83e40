/**
 * FleetStore: one SQLite-backed Durable Object per namespace (`idFromName(namespace)`) holding the
 * last time each client was seen polling each key of the namespace at the edge, and which version
 * it was served (docs/operations.md, "Fleet view"). Telemetry, not truth: a lost batch only makes
 * the view a few seconds older.
 *
 * Kept apart from the NamespaceStore on purpose: the edge's batches arrive every few seconds from
 * every location, and must neither queue behind publishes in that object nor share its one alarm,
 * which the distribution retries own. Rows older than the longest window are deleted by alarm.
 */
import { DurableObject } from "cloudflare:workers";
import {
  type FleetExpectation,
  type FleetSighting,
  type FleetView,
  fleetView,
  type LastSeen,
  MAX_FLEET_WINDOW_SECONDS,
} from "../../core";
import { type Migration, runMigrations, startUp } from "./migrations";

/** How often expired sightings are swept. */
export const FLEET_SWEEP_MS = 15 * 60 * 1000;
const RETENTION_MS = MAX_FLEET_WINDOW_SECONDS * 1000;

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
];

export interface FleetRecordOutcome {
  stored: number;
}

export class FleetStore extends DurableObject<unknown> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    startUp(ctx, "FleetStore", async () => {
      runMigrations(this.sql, (work) => ctx.storage.transactionSync(work), FLEET_MIGRATIONS);
    });
  }

  /** Upserts a batch's sightings of this namespace's keys in one transaction. */
  async record(sightings: FleetSighting[]): Promise<FleetRecordOutcome> {
    this.ctx.storage.transactionSync(() => {
      for (const s of sightings) {
        this.sql.exec(
          `INSERT INTO last_seen (key, client_id, version, seen_at, colo) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (key, client_id) DO UPDATE SET
             version = excluded.version, seen_at = excluded.seen_at, colo = excluded.colo
           WHERE excluded.seen_at >= last_seen.seen_at`,
          s.key,
          s.clientId,
          s.version,
          s.seenAt,
          s.colo,
        );
      }
    });
    if ((await this.ctx.storage.getAlarm()) === null)
      await this.ctx.storage.setAlarm(Date.now() + FLEET_SWEEP_MS);
    return { stored: sightings.length };
  }

  /** The fleet view of one key over the clients seen since `sinceMs`. */
  view(expectation: FleetExpectation, sinceMs: number, nowMs: number): FleetView {
    const rows = this.sql
      .exec<{ client_id: string; version: number; colo: string | null }>(
        "SELECT client_id, version, colo FROM last_seen WHERE key = ? AND seen_at >= ?",
        expectation.key,
        sinceMs,
      )
      .toArray()
      .map((r): LastSeen => ({ clientId: r.client_id, version: r.version, colo: r.colo }));
    return fleetView(rows, expectation, nowMs);
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

  /** Deletes sightings older than the longest window, then sleeps until the next sweep. */
  override async alarm(): Promise<void> {
    this.sweep(Date.now());
    const left = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM last_seen").one().n;
    if (left > 0) await this.ctx.storage.setAlarm(Date.now() + FLEET_SWEEP_MS);
  }

  /** Removes sightings older than the retention; returns how many. */
  sweep(nowMs: number): number {
    return this.sql.exec("DELETE FROM last_seen WHERE seen_at < ?", nowMs - RETENTION_MS).rowsWritten;
  }
}
