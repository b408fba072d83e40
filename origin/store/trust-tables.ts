/**
 * Tables of migration 3 (namespace-migrations.ts): Config-Freshness proofs per (key, version),
 * redaction of a version's bytes, and the signed trust roots kept by the `*` namespace's object.
 * Synchronous, as tables.ts, so a read-decide-write sequence cannot interleave.
 */

export type ProofRow = { key: string; version: number; proof: string; iat: number; exp: number };

export function readProof(sql: SqlStorage, key: string, version: number): ProofRow | null {
  return (
    sql.exec<ProofRow>("SELECT * FROM freshness WHERE key = ? AND version = ?", key, version).toArray()[0] ??
    null
  );
}

export function writeProof(sql: SqlStorage, row: ProofRow): void {
  sql.exec(
    `INSERT INTO freshness (key, version, proof, iat, exp) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (key, version) DO UPDATE SET proof = excluded.proof, iat = excluded.iat, exp = excluded.exp`,
    row.key,
    row.version,
    row.proof,
    row.iat,
    row.exp,
  );
}

/** Proofs of versions no longer current (or of deleted keys) are dropped: nothing re-signs them. */
export function pruneProofs(sql: SqlStorage, key: string, keep: number[]): void {
  const list = keep.length > 0 ? keep.join(",") : "-1";
  sql.exec(`DELETE FROM freshness WHERE key = ? AND version NOT IN (${list})`, key);
}

/**
 * Live keys whose newest proof reaches half of its lifetime at or before `dueAt` (seconds), and
 * the earliest such half-life among all live keys (for the next alarm).
 */
export function proofsDue(sql: SqlStorage, dueAt: number): { keys: string[]; next: number | null } {
  const rows = sql
    .exec<{ key: string; half: number }>(
      `SELECT f.key AS key, MIN(f.iat + (f.exp - f.iat) / 2) AS half FROM freshness f
       JOIN keys k ON k.key = f.key WHERE k.deleted = 0 GROUP BY f.key`,
    )
    .toArray();
  const keys = rows.filter((r) => r.half <= dueAt).map((r) => r.key);
  const later = rows.filter((r) => r.half > dueAt).map((r) => r.half);
  return { keys, next: later.length > 0 ? Math.min(...later) : null };
}

/** Versions of a key whose bytes were redacted, ascending. */
export function redactedVersions(sql: SqlStorage, key: string): number[] {
  return sql
    .exec<{ version: number }>(
      "SELECT version FROM versions WHERE key = ? AND redacted_at IS NOT NULL ORDER BY version",
      key,
    )
    .toArray()
    .map((r) => r.version);
}

/** Empties a version's bytes in SQLite (the row, its ETag and digest stay for history and audit). */
export function redactVersion(sql: SqlStorage, key: string, version: number, at: number): void {
  sql.exec(
    "UPDATE versions SET body = ?, redacted_at = ? WHERE key = ? AND version = ?",
    new ArrayBuffer(0),
    at,
    key,
    version,
  );
  sql.exec("DELETE FROM version_parts WHERE key = ? AND version = ?", key, version);
}

export type RootRow = {
  version: number;
  document: string;
  stored_at: number;
  stored_by: string;
  kv_written: number;
};

export function latestRoot(sql: SqlStorage): RootRow | null {
  return sql.exec<RootRow>("SELECT * FROM roots ORDER BY version DESC LIMIT 1").toArray()[0] ?? null;
}

export function readRoot(sql: SqlStorage, version: number): RootRow | null {
  return sql.exec<RootRow>("SELECT * FROM roots WHERE version = ?", version).toArray()[0] ?? null;
}

export function insertRoot(sql: SqlStorage, version: number, document: string, at: number, by: string): void {
  sql.exec(
    "INSERT INTO roots (version, document, stored_at, stored_by) VALUES (?, ?, ?, ?)",
    version,
    document,
    at,
    by,
  );
}

export function unwrittenRoots(sql: SqlStorage): RootRow[] {
  return sql.exec<RootRow>("SELECT * FROM roots WHERE kv_written = 0 ORDER BY version").toArray();
}

export function markRootWritten(sql: SqlStorage, version: number): void {
  sql.exec("UPDATE roots SET kv_written = 1 WHERE version = ?", version);
}
