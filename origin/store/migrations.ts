/**
 * Numbered SQLite migrations for the origin's Durable Objects (NamespaceStore, FleetStore,
 * NamespaceRegistry). Each object's database records the migrations it has run in `_migrations`
 * (Durable Object SQLite refuses `PRAGMA user_version` with SQLITE_AUTH, so the record is a table);
 * on start the object runs, in order and each in its own transaction, only the ones it lacks.
 *
 * A migration is never edited once shipped: a change of schema is a new, higher-numbered one.
 * Migration 1 of each object uses `IF NOT EXISTS`, because objects created before this runner
 * already have those tables but no `_migrations` row; later ones may use plain ALTER TABLE.
 */

import { logLine } from "../../core";

export interface Migration {
  /** 1, 2, 3, … with no gaps: the order they run in. */
  readonly id: number;
  /** What it does, for people reading `_migrations`. */
  readonly name: string;
  readonly statements: readonly string[];
}

export interface MigrationReport {
  /** The highest migration id recorded before this run (0 for a database that had none). */
  from: number;
  /** The highest id recorded after it. */
  to: number;
  applied: number[];
}

const RECORD_TABLE = `CREATE TABLE IF NOT EXISTS _migrations (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at INTEGER NOT NULL
)`;

/** The highest migration id the database has recorded, 0 when none. */
export function schemaVersion(sql: SqlStorage): number {
  sql.exec(RECORD_TABLE);
  return sql.exec<{ id: number | null }>("SELECT MAX(id) AS id FROM _migrations").one().id ?? 0;
}

/**
 * Runs the migrations the database has not recorded. Each one's statements and its record commit
 * together (`transaction`, the object's `transactionSync`), so a migration that fails part-way
 * leaves no trace and is retried whole on the next start.
 */
export function runMigrations(
  sql: SqlStorage,
  transaction: (work: () => void) => void,
  migrations: readonly Migration[],
  now: number = Date.now(),
): MigrationReport {
  migrations.forEach((migration, index) => {
    if (migration.id !== index + 1) {
      throw new Error(`migration ${migration.name} is numbered ${migration.id}, expected ${index + 1}`);
    }
  });
  const from = schemaVersion(sql);
  if (from > migrations.length) {
    // An older build must not write to a database a newer one has changed under it.
    throw new Error(`database is at migration ${from}, this build knows only ${migrations.length}`);
  }
  const applied: number[] = [];
  for (const migration of migrations.slice(from)) {
    transaction(() => {
      for (const statement of migration.statements) sql.exec(statement);
      sql.exec(
        "INSERT INTO _migrations (id, name, applied_at) VALUES (?, ?, ?)",
        migration.id,
        migration.name,
        now,
      );
    });
    applied.push(migration.id);
  }
  return { from, to: from + applied.length, applied };
}

/**
 * Runs an object's start-up work (its migrations) before any call is delivered
 * (`blockConcurrencyWhile`). When it fails, workerd resets the object and every waiting call
 * fails with the error; the rejection is logged here rather than left unhandled.
 */
export function startUp(ctx: DurableObjectState, object: string, work: () => Promise<void>): void {
  ctx.blockConcurrencyWhile(work).catch((error: unknown) => {
    logLine({
      part: "origin",
      event: "start_failed",
      level: "error",
      object,
      error: error instanceof Error ? error.message : String(error),
    });
  });
}
