/**
 * NamespaceRegistry: one SQLite-backed Durable Object (`idFromName("registry")`) listing every
 * namespace the origin has changed, so `GET /v1/status` can walk them (a Durable Object namespace
 * cannot be enumerated). Written after each successful write through the admin API; a namespace
 * written before the registry existed appears after its next write (docs/operations.md).
 * A Durable Object rather than a KV list: concurrent writers to one KV value lose updates.
 */
import { DurableObject } from "cloudflare:workers";
import { type Migration, runMigrations, startUp } from "./migrations";

/** The registry's SQLite schema as numbered migrations (migrations.ts); append, never edit. */
export const REGISTRY_MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: "namespaces",
    // IF NOT EXISTS: the object created before migrations were recorded already has it.
    statements: [
      `CREATE TABLE IF NOT EXISTS namespaces (
        namespace TEXT PRIMARY KEY,
        first_seen_at INTEGER NOT NULL,
        last_change_at INTEGER NOT NULL
      )`,
    ],
  },
];

export interface RegisteredNamespace {
  namespace: string;
  firstSeenAt: number;
  lastChangeAt: number;
}

export class NamespaceRegistry extends DurableObject<unknown> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    startUp(ctx, "NamespaceRegistry", async () => {
      runMigrations(this.sql, (work) => ctx.storage.transactionSync(work), REGISTRY_MIGRATIONS);
    });
  }

  register(namespace: string, at: number): void {
    this.sql.exec(
      `INSERT INTO namespaces (namespace, first_seen_at, last_change_at) VALUES (?, ?, ?)
       ON CONFLICT (namespace) DO UPDATE SET last_change_at = MAX(last_change_at, excluded.last_change_at)`,
      namespace,
      at,
      at,
    );
  }

  list(): RegisteredNamespace[] {
    return this.sql
      .exec<{ namespace: string; first_seen_at: number; last_change_at: number }>(
        "SELECT namespace, first_seen_at, last_change_at FROM namespaces ORDER BY namespace",
      )
      .toArray()
      .map((r) => ({ namespace: r.namespace, firstSeenAt: r.first_seen_at, lastChangeAt: r.last_change_at }));
  }
}
