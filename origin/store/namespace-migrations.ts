/**
 * The NamespaceStore's SQLite schema (one database per namespace), as numbered migrations run by
 * migrations.ts when the object starts. docs/kv-layout.md describes each table; this is the
 * executable form. Change the schema by appending a migration, never by editing a shipped one.
 */
import type { Migration } from "./migrations";

/**
 * Durable Object SQLite rows and values are capped at 2 MB, while a config may be up to 25 MiB,
 * so a body is stored as its first chunk in `versions.body` and the rest in `version_parts`.
 */
export const BODY_CHUNK_BYTES = 1024 * 1024;

export const NAMESPACE_MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: "keys, versions, settings, audit, outbox, meta",
    // IF NOT EXISTS: objects created before migrations were recorded already have these tables.
    statements: [
      // One row per key ever published: its live version, tombstone flag and the next version
      // number, which only grows so a version is never reused (not after rollback, not after delete).
      `CREATE TABLE IF NOT EXISTS keys (
    key TEXT PRIMARY KEY,
    current_version INTEGER,
    deleted INTEGER NOT NULL DEFAULT 0,
    next_version INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  )`,
      // Every version ever published, immutable once written; kv_written flips when its snapshot is in KV.
      `CREATE TABLE IF NOT EXISTS versions (
    key TEXT NOT NULL,
    version INTEGER NOT NULL,
    etag TEXT NOT NULL,
    digest TEXT NOT NULL,
    signature TEXT NOT NULL,
    published_at INTEGER NOT NULL,
    author TEXT NOT NULL,
    message TEXT,
    size INTEGER NOT NULL,
    body BLOB NOT NULL,
    kv_written INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (key, version)
  )`,
      `CREATE TABLE IF NOT EXISTS version_parts (
    key TEXT NOT NULL,
    version INTEGER NOT NULL,
    part INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (key, version, part)
  )`,
      // At most one row: absent means DEFAULT_NAMESPACE_SETTINGS (private).
      `CREATE TABLE IF NOT EXISTS settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    visibility TEXT NOT NULL,
    max_age INTEGER NOT NULL,
    stale_while_revalidate INTEGER NOT NULL,
    stale_if_error INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  )`,
      `CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    key TEXT,
    from_version INTEGER,
    to_version INTEGER,
    message TEXT,
    digest TEXT,
    detail TEXT
  )`,
      "CREATE INDEX IF NOT EXISTS audit_by_key ON audit (key, id)",
      "CREATE INDEX IF NOT EXISTS audit_by_time ON audit (at, id)",
      // Changes committed here but not yet confirmed in KV and the edge caches. `seq` grows on every
      // new change to the same target, so a drain only removes the row if nothing newer arrived.
      `CREATE TABLE IF NOT EXISTS outbox (
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    seq INTEGER NOT NULL,
    enqueued_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    PRIMARY KEY (kind, target)
  )`,
      // Small named integers: the namespace's name, consecutive drain failures (backoff).
      "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ],
  },
  {
    id: 2,
    name: "rollouts and key schemas",
    statements: [
      // Staged rollouts, running and finished (docs/rollouts.md). While one runs, keys.current_version
      // stays the stable version and the candidate is a version above it; the partial unique index
      // makes "one rollout per key at a time" a constraint, not just a check.
      `CREATE TABLE IF NOT EXISTS rollouts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    stable_version INTEGER NOT NULL,
    candidate_version INTEGER NOT NULL,
    mode TEXT NOT NULL,
    percent REAL NOT NULL,
    start REAL NOT NULL,
    step REAL NOT NULL,
    every_seconds INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    started_by TEXT NOT NULL,
    message TEXT,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL,
    ended_at INTEGER,
    ended_by TEXT,
    outcome TEXT,
    result_version INTEGER
  )`,
      "CREATE UNIQUE INDEX IF NOT EXISTS rollouts_running ON rollouts (key) WHERE ended_at IS NULL",
      "CREATE INDEX IF NOT EXISTS rollouts_by_key ON rollouts (key, id)",
      // One JSON Schema (2020-12) per key, as the exact bytes sent; publishes are checked against it.
      `CREATE TABLE IF NOT EXISTS schemas (
    key TEXT PRIMARY KEY,
    body BLOB NOT NULL,
    digest TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
  )`,
    ],
  },
  {
    id: 3,
    name: "bundles",
    statements: [
      // Named sets of keys (DESIGN §8, docs/bundles.md). `keys` is the JSON array of member keys as
      // defined; the manifest of each version names the live version and digest of every member.
      `CREATE TABLE bundles (
    name TEXT PRIMARY KEY,
    keys TEXT NOT NULL,
    current_version INTEGER NOT NULL,
    next_version INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
  )`,
      // Every manifest version, immutable once written. A version is added in the same transaction
      // as the member change that caused it; its ETag, digest and signature are computed by the
      // drain before it is written to KV (sealed), because a commit is synchronous and signing is not.
      `CREATE TABLE bundle_versions (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    published_at INTEGER NOT NULL,
    etag TEXT,
    digest TEXT,
    signature TEXT,
    kv_written INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (name, version)
  )`,
    ],
  },
  {
    id: 4,
    name: "delete generations, redaction, freshness proofs, trust roots",
    statements: [
      // The first version of the key's current delete generation: a re-created key never serves
      // versions from before its delete (DESIGN §8). Set to the new version when a deleted key is
      // published again.
      "ALTER TABLE keys ADD COLUMN floor INTEGER NOT NULL DEFAULT 1",
      // When a version's bytes were redacted (body emptied, snapshot deleted from KV); NULL = kept.
      "ALTER TABLE versions ADD COLUMN redacted_at INTEGER",
      // Config-Freshness lifetime in seconds (core/snapshot.ts DEFAULT_FRESHNESS_TTL).
      "ALTER TABLE settings ADD COLUMN freshness_ttl INTEGER NOT NULL DEFAULT 86400",
      // The newest Config-Freshness proof per (key, version) the drain wrote into the head; the
      // alarm re-signs a proof at half of its lifetime (distribution/freshness.ts).
      `CREATE TABLE freshness (
    key TEXT NOT NULL, version INTEGER NOT NULL,
    proof TEXT NOT NULL, iat INTEGER NOT NULL, exp INTEGER NOT NULL,
    PRIMARY KEY (key, version)
  )`,
      // Signed trust roots (core/trust-root.ts); only the "*" namespace's object holds rows.
      `CREATE TABLE roots (
    version INTEGER PRIMARY KEY,
    document TEXT NOT NULL,
    stored_at INTEGER NOT NULL,
    stored_by TEXT NOT NULL,
    kv_written INTEGER NOT NULL DEFAULT 0
  )`,
    ],
  },
  {
    id: 5,
    name: "rollout health gates",
    statements: [
      // Config-Rollout's max-rejected / min-clients / bake (docs/rollouts.md, "Health gates").
      "ALTER TABLE rollouts ADD COLUMN max_rejected REAL",
      "ALTER TABLE rollouts ADD COLUMN min_clients INTEGER",
      "ALTER TABLE rollouts ADD COLUMN bake_seconds INTEGER NOT NULL DEFAULT 0",
      // JSON (types.ts AutoAbort): why the origin aborted it by itself, with the gate's figures.
      "ALTER TABLE rollouts ADD COLUMN auto_abort TEXT",
    ],
  },
  {
    id: 6,
    name: "rollout rings",
    statements: [
      // Config-Rollout's colos="…" / continents="…" (core/rings.ts), space-separated codes; both
      // NULL: the rollout applies everywhere (every rollout before rings).
      "ALTER TABLE rollouts ADD COLUMN ring_colos TEXT",
      "ALTER TABLE rollouts ADD COLUMN ring_continents TEXT",
    ],
  },
  {
    id: 7,
    name: "four-eyes change requests",
    statements: [
      // The namespace's approval setting (core/approval.ts): "none" or "required", and how long a
      // change request stays approvable, in seconds.
      "ALTER TABLE settings ADD COLUMN approval TEXT NOT NULL DEFAULT 'none'",
      "ALTER TABLE settings ADD COLUMN approval_ttl INTEGER NOT NULL DEFAULT 86400",
      // Writes held for a second admin (store/change-requests.ts). `body` is the first chunk of the
      // exact bytes reviewed (a publish's document, a change set's members as JSON), the rest in
      // change_request_parts as versions do; `rollout` is the Config-Rollout spec as JSON. `state`
      // is pending until approved, rejected, failed or expired (a pending row past expires_at is
      // reported expired before it is recorded so).
      `CREATE TABLE change_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    key TEXT,
    keys TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    message TEXT,
    digest TEXT,
    size INTEGER NOT NULL,
    if_match TEXT,
    if_none_match TEXT,
    base_etag TEXT,
    rollout TEXT,
    rollback_to INTEGER,
    body BLOB NOT NULL,
    state TEXT NOT NULL,
    decided_at INTEGER,
    decided_by TEXT,
    reason TEXT,
    result_version INTEGER
  )`,
      "CREATE INDEX change_requests_by_state ON change_requests (state, id)",
      `CREATE TABLE change_request_parts (
    id INTEGER NOT NULL,
    part INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (id, part)
  )`,
    ],
  },
];
