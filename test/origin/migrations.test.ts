/**
 * Numbered SQLite migrations (origin/store/migrations.ts) inside workerd, on real Durable Object
 * storage. A database left by an earlier build is made by hand in the object's storage (its tables,
 * no `_migrations` record), then the object is restarted with `abortAllDurableObjects` so the real
 * constructor runs the migrations on it, exactly as after a deploy.
 */
import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { FLEET_MIGRATIONS } from "../../origin/store/fleet-store";
import { type Migration, runMigrations, schemaVersion } from "../../origin/store/migrations";
import { NAMESPACE_MIGRATIONS } from "../../origin/store/namespace-migrations";
import { REGISTRY_MIGRATIONS } from "../../origin/store/namespace-registry";
import { freshNamespace, originEnv, storeOf } from "./support/origin";

/** Drops every table of the object's database, leaving it as a never-migrated object's. */
function dropAllTables(sql: SqlStorage): void {
  const names = sql
    .exec<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
    )
    .toArray()
    .map((row) => row.name);
  for (const name of names) sql.exec(`DROP TABLE "${name}"`);
}

/** What an earlier build's `ensureSchema` left: the given migrations' tables, no record of them. */
function unrecordedSchema(sql: SqlStorage, migrations: readonly Migration[]): void {
  dropAllTables(sql);
  for (const migration of migrations) for (const statement of migration.statements) sql.exec(statement);
}

function tableNames(sql: SqlStorage): string[] {
  return sql
    .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .toArray()
    .map((row) => row.name);
}

function recorded(sql: SqlStorage): { id: number; name: string; applied_at: number }[] {
  return sql
    .exec<{ id: number; name: string; applied_at: number }>(
      "SELECT id, name, applied_at FROM _migrations ORDER BY id",
    )
    .toArray();
}

const firstOnly = NAMESPACE_MIGRATIONS.slice(0, 1);

describe("NamespaceStore migrations", () => {
  it("records every migration when a new object starts", async () => {
    const ns = freshNamespace("mig");
    const ids = await runInDurableObject(storeOf(ns), (_, state) =>
      recorded(state.storage.sql).map((row) => row.id),
    );
    expect(ids).toEqual(NAMESPACE_MIGRATIONS.map((m) => m.id));
  });

  it("migrates a round-1 database (no rollouts or schemas tables, nothing recorded) and keeps its rows", async () => {
    const ns = freshNamespace("mig");
    const key = `${ns}/app`;
    const body = new TextEncoder().encode('{"feature":true}');
    await runInDurableObject(storeOf(ns), (_, state) => {
      const sql = state.storage.sql;
      unrecordedSchema(sql, firstOnly);
      expect(tableNames(sql)).not.toContain("rollouts");
      sql.exec(
        "INSERT INTO keys (key, current_version, deleted, next_version, updated_at) VALUES (?, 1, 0, 2, 1000)",
        key,
      );
      sql.exec(
        `INSERT INTO versions (key, version, etag, digest, signature, published_at, author, message, size, body)
         VALUES (?, 1, '"e1"', 'sha-256=:x:', 'sig', 1000, 'old-build', 'from round 1', ?, ?)`,
        key,
        body.length,
        body,
      );
      sql.exec(
        "INSERT INTO audit (at, actor, action, key, from_version, to_version) VALUES (1000, 'old-build', 'publish', ?, NULL, 1)",
        key,
      );
    });

    await abortAllDurableObjects();
    // The first call builds a new instance, whose constructor migrates before serving it.
    const current = await storeOf(ns).current(key);
    expect(current).toMatchObject({ ok: true, value: { record: { version: 1, author: "old-build" } } });
    if (current.ok) expect(new TextDecoder().decode(current.value.body)).toBe('{"feature":true}');
    const audit = await storeOf(ns).audit({ key, afterId: null, limit: 10, since: null });
    expect(audit.entries.map((e) => e.actor)).toEqual(["old-build"]);

    await runInDurableObject(storeOf(ns), (_, state) => {
      const sql = state.storage.sql;
      expect(schemaVersion(sql)).toBe(NAMESPACE_MIGRATIONS.length);
      expect(recorded(sql).map((r) => r.id)).toEqual(NAMESPACE_MIGRATIONS.map((m) => m.id));
      expect(tableNames(sql)).toEqual(expect.arrayContaining(["rollouts", "schemas", "keys", "versions"]));
    });
    // And the migrated tables work: a rollout (migration 2's table) can start over the old version.
    const published = await storeOf(ns).publish({
      namespace: ns,
      key,
      body: new TextEncoder().encode('{"feature":false}'),
      ifMatch: null,
      ifNoneMatch: null,
      actor: "new-build",
      message: null,
      rollout: { mode: "fixed", percent: 10, start: 10, step: 0, everySeconds: 0 },
    });
    expect(published).toMatchObject({ ok: true, value: { created: true, record: { version: 2 } } });
  });

  it("runs only the migrations an object lacks, leaving the recorded ones as they were", async () => {
    const ns = freshNamespace("mig");
    await runInDurableObject(storeOf(ns), (_, state) => {
      const sql = state.storage.sql;
      dropAllTables(sql);
      const report = runMigrations(sql, (work) => state.storage.transactionSync(work), firstOnly, 5);
      expect(report).toEqual({ from: 0, to: 1, applied: [1] });
    });
    await abortAllDurableObjects();
    await runInDurableObject(storeOf(ns), (_, state) => {
      const rows = recorded(state.storage.sql);
      // Migration 1 from the run above, the rest from the object's own start-up.
      expect(rows.map((r) => [r.id, r.applied_at === 5])).toEqual(
        NAMESPACE_MIGRATIONS.map((m) => [m.id, m.id === 1]),
      );
    });
  });

  it("is a no-op when run again on a migrated database", async () => {
    const ns = freshNamespace("mig");
    await runInDurableObject(storeOf(ns), (_, state) => {
      const sql = state.storage.sql;
      const before = recorded(sql);
      const report = runMigrations(sql, (work) => state.storage.transactionSync(work), NAMESPACE_MIGRATIONS);
      const last = NAMESPACE_MIGRATIONS.length;
      expect(report).toEqual({ from: last, to: last, applied: [] });
      expect(recorded(sql)).toEqual(before);
    });
  });

  it("rolls a failing migration back whole and records nothing, so the next start retries it", async () => {
    const ns = freshNamespace("mig");
    const broken: Migration[] = [
      ...NAMESPACE_MIGRATIONS,
      {
        id: NAMESPACE_MIGRATIONS.length + 1,
        name: "half-good",
        statements: ["CREATE TABLE extra (id INTEGER PRIMARY KEY)", "INSERT INTO no_such_table VALUES (1)"],
      },
    ];
    await runInDurableObject(storeOf(ns), (_, state) => {
      const sql = state.storage.sql;
      expect(() => runMigrations(sql, (work) => state.storage.transactionSync(work), broken)).toThrow(
        /no_such_table/,
      );
      expect(schemaVersion(sql)).toBe(NAMESPACE_MIGRATIONS.length);
      expect(tableNames(sql)).not.toContain("extra");
    });
  });

  it("refuses to run an older build's list on a database a newer build migrated", async () => {
    const ns = freshNamespace("mig");
    await runInDurableObject(storeOf(ns), (_, state) => {
      expect(() =>
        runMigrations(state.storage.sql, (work) => state.storage.transactionSync(work), firstOnly),
      ).toThrow(new RegExp(`at migration ${NAMESPACE_MIGRATIONS.length}, this build knows only 1`));
    });
  });

  it("refuses a list with a gap in its numbering", async () => {
    const ns = freshNamespace("mig");
    const gap: Migration[] = [{ id: 2, name: "skips one", statements: [] }];
    await runInDurableObject(storeOf(ns), (_, state) => {
      expect(() =>
        runMigrations(state.storage.sql, (work) => state.storage.transactionSync(work), gap),
      ).toThrow(/numbered 2, expected 1/);
    });
  });
});

describe("FleetStore and NamespaceRegistry migrations", () => {
  it("keeps a pre-migration FleetStore's sightings and records migration 1", async () => {
    const ns = freshNamespace("mig");
    // A new stub after each restart: an aborted object's stubs stay broken.
    const fleet = () => originEnv.FLEET.get(originEnv.FLEET.idFromName(ns));
    const now = Date.now();
    await runInDurableObject(fleet(), (_, state) => {
      const sql = state.storage.sql;
      // Before migrations were recorded a FleetStore had migration 1's table only.
      unrecordedSchema(sql, FLEET_MIGRATIONS.slice(0, 1));
      sql.exec(
        "INSERT INTO last_seen (key, client_id, version, seen_at, colo) VALUES (?, 'c1', 3, ?, 'AMS')",
        `${ns}/app`,
        now,
      );
      expect(tableNames(sql)).not.toContain("_migrations");
    });
    await abortAllDurableObjects();
    expect(await fleet().activeClients(now - 1000)).toEqual([{ key: `${ns}/app`, clients: 1 }]);
    await runInDurableObject(fleet(), (_, state) => {
      expect(recorded(state.storage.sql).map((r) => r.id)).toEqual(FLEET_MIGRATIONS.map((m) => m.id));
    });
  });

  it("keeps a pre-migration registry's namespaces and records migration 1", async () => {
    const name = freshNamespace("registry");
    const registry = () => originEnv.REGISTRY.get(originEnv.REGISTRY.idFromName(name));
    await runInDurableObject(registry(), (_, state) => {
      const sql = state.storage.sql;
      unrecordedSchema(sql, REGISTRY_MIGRATIONS);
      sql.exec("INSERT INTO namespaces (namespace, first_seen_at, last_change_at) VALUES ('payments', 1, 2)");
    });
    await abortAllDurableObjects();
    expect(await registry().list()).toEqual([{ namespace: "payments", firstSeenAt: 1, lastChangeAt: 2 }]);
    await runInDurableObject(registry(), (_, state) => {
      expect(recorded(state.storage.sql).map((r) => r.id)).toEqual([1]);
      expect(schemaVersion(state.storage.sql)).toBe(REGISTRY_MIGRATIONS.length);
    });
  });
});
