/**
 * Bundle tables of the NamespaceStore (DESIGN §8, docs/bundles.md): their definitions, their manifest
 * versions, and the one rule that keeps a manifest consistent — a bundle's version is bumped in
 * the same SQL transaction as any change of a member's live version (`refreshBundles`, called by
 * commitChange for every key change), so no committed state exists in which a member moved and
 * its bundles did not.
 *
 * A manifest version is committed unsigned; the drain seals it (ETag, digest, signature, as
 * core/snapshot.ts builds for a config) before writing it to KV, because a commit is synchronous
 * and signing is not. The seal is computed once per version and stored.
 */
import {
  type BundleManifest,
  type BundleMember,
  buildSnapshot,
  bundleRef,
  encodeBundleManifest,
  type HeadRecord,
  type SnapshotMeta,
  sameMembers,
  utf8Bytes,
} from "../../core";
import { enqueue, readLive } from "./tables";

export type BundleRow = {
  name: string;
  keys: string;
  current_version: number;
  next_version: number;
  updated_at: number;
  updated_by: string;
};

type BundleVersionRow = {
  name: string;
  version: number;
  body: string;
  published_at: number;
  etag: string | null;
  digest: string | null;
  signature: string | null;
  kv_written: number;
};

export interface BundleInput {
  namespace: string;
  name: string;
  keys: string[];
  actor: string;
}

/** A bundle as the admin API shows it: its definition and its current manifest. */
export interface BundleView {
  namespace: string;
  name: string;
  keys: string[];
  version: number;
  members: Record<string, BundleMember>;
  updatedAt: number;
  updatedBy: string;
}

export interface BundleOutcome {
  view: BundleView;
  /** Whether this definition created a new manifest version. */
  changed: boolean;
}

export function readBundle(sql: SqlStorage, name: string): BundleRow | null {
  return sql.exec<BundleRow>("SELECT * FROM bundles WHERE name = ?", name).toArray()[0] ?? null;
}

export function readBundleVersion(sql: SqlStorage, name: string, version: number): BundleVersionRow | null {
  return (
    sql
      .exec<BundleVersionRow>("SELECT * FROM bundle_versions WHERE name = ? AND version = ?", name, version)
      .toArray()[0] ?? null
  );
}

export function membersOf(row: BundleVersionRow | null): Record<string, BundleMember> {
  if (!row) return {};
  return (JSON.parse(row.body) as BundleManifest).members;
}

function keysOf(row: BundleRow): string[] {
  return JSON.parse(row.keys) as string[];
}

/** The live version and digest of each key; a key without a live version is left out. */
export function liveMembers(sql: SqlStorage, keys: readonly string[]): Record<string, BundleMember> {
  const members: Record<string, BundleMember> = {};
  for (const key of keys) {
    const live = readLive(sql, key);
    if (live) members[key] = { version: live.version, digest: live.digest };
  }
  return members;
}

/** Adds a manifest version for `row` if its members' live versions differ from the current one. */
export function bumpIfChanged(
  sql: SqlStorage,
  namespace: string,
  row: BundleRow,
  keys: string[],
  at: number,
  actor: string,
): boolean {
  const members = liveMembers(sql, keys);
  const current = readBundleVersion(sql, row.name, row.current_version);
  const sameKeys = JSON.stringify(keysOf(row)) === JSON.stringify(keys);
  if (current && sameKeys && sameMembers(membersOf(current), members)) return false;
  if (current && sameMembers(membersOf(current), members)) {
    // Only the definition's order or spelling changed, not the set of member versions.
    sql.exec(
      "UPDATE bundles SET keys = ?, updated_at = ?, updated_by = ? WHERE name = ?",
      JSON.stringify(keys),
      at,
      actor,
      row.name,
    );
    return false;
  }
  const version = row.next_version;
  const body = encodeBundleManifest({ bundle: `${namespace}/${row.name}`, version, members });
  sql.exec(
    "INSERT INTO bundle_versions (name, version, body, published_at) VALUES (?, ?, ?, ?)",
    row.name,
    version,
    body,
    at,
  );
  sql.exec(
    `INSERT INTO bundles (name, keys, current_version, next_version, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET keys = excluded.keys, current_version = excluded.current_version,
       next_version = excluded.next_version, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
    row.name,
    JSON.stringify(keys),
    version,
    version + 1,
    at,
    actor,
  );
  enqueue(sql, "bundle", row.name, at);
  return true;
}

/**
 * Called inside every key change's transaction (commitChange): bumps each bundle that names one
 * of `keys` and whose member versions changed. Returns the bundles bumped.
 */
export function refreshBundles(
  sql: SqlStorage,
  keys: readonly string[],
  at: number,
  actor: string,
): string[] {
  const namespace = keys[0]?.split("/")[0];
  if (namespace === undefined) return [];
  const changed = new Set(keys);
  const bumped: string[] = [];
  for (const row of sql.exec<BundleRow>("SELECT * FROM bundles ORDER BY name").toArray()) {
    const members = keysOf(row);
    if (!members.some((key) => changed.has(key))) continue;
    if (bumpIfChanged(sql, namespace, row, members, at, actor)) bumped.push(row.name);
  }
  return bumped;
}

/** The bundles that name `key`, for refusing a delete that would leave a manifest without it. */
export function bundlesNaming(sql: SqlStorage, key: string): string[] {
  return sql
    .exec<BundleRow>("SELECT * FROM bundles ORDER BY name")
    .toArray()
    .filter((row) => keysOf(row).includes(key))
    .map((row) => row.name);
}

export function viewOf(sql: SqlStorage, namespace: string, row: BundleRow): BundleView {
  return {
    namespace,
    name: row.name,
    keys: keysOf(row),
    version: row.current_version,
    members: membersOf(readBundleVersion(sql, row.name, row.current_version)),
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}

export interface BundleSigner {
  key: CryptoKey;
  kid: string;
}

/** Computes and stores the ETag, digest and signature of every unsealed version of a bundle. */
export async function sealBundle(
  sql: SqlStorage,
  namespace: string,
  name: string,
  signer: BundleSigner,
): Promise<void> {
  const ref = bundleRef(namespace, name);
  const rows = sql
    .exec<BundleVersionRow>(
      "SELECT * FROM bundle_versions WHERE name = ? AND signature IS NULL ORDER BY version",
      name,
    )
    .toArray();
  for (const row of rows) {
    const snapshot = await buildSnapshot({
      key: ref.key,
      version: row.version,
      body: utf8Bytes(row.body),
      publishedAt: row.published_at,
      signingKey: signer.key,
      kid: signer.kid,
    });
    sql.exec(
      "UPDATE bundle_versions SET etag = ?, digest = ?, signature = ? WHERE name = ? AND version = ?",
      snapshot.meta.etag,
      snapshot.meta.digest,
      snapshot.meta.signature,
      name,
      row.version,
    );
  }
}

export interface SealedBundleVersion {
  meta: SnapshotMeta;
  body: Uint8Array;
  written: boolean;
}

function sealedOf(ref: { key: string }, row: BundleVersionRow): SealedBundleVersion | null {
  if (row.etag === null || row.digest === null || row.signature === null) return null;
  const body = utf8Bytes(row.body);
  return {
    meta: {
      key: ref.key,
      version: row.version,
      etag: row.etag,
      digest: row.digest,
      signature: row.signature,
      publishedAt: row.published_at,
      size: body.length,
    },
    body,
    written: row.kv_written === 1,
  };
}

/** Sealed versions not yet in KV, oldest first, up to the current one. */
export function unwrittenBundleVersions(
  sql: SqlStorage,
  namespace: string,
  name: string,
): SealedBundleVersion[] {
  const ref = bundleRef(namespace, name);
  return sql
    .exec<BundleVersionRow>(
      "SELECT * FROM bundle_versions WHERE name = ? AND kv_written = 0 ORDER BY version",
      name,
    )
    .toArray()
    .map((row) => sealedOf(ref, row))
    .filter((v): v is SealedBundleVersion => v !== null);
}

export function markBundleWritten(sql: SqlStorage, name: string, version: number): void {
  sql.exec("UPDATE bundle_versions SET kv_written = 1 WHERE name = ? AND version = ?", name, version);
}

/**
 * The head of a bundle's manifest, as the drain writes it to KV and the origin answers the edge
 * (routes/internal-heads.ts): the newest sealed version; null when none is sealed yet.
 */
export function bundleHead(sql: SqlStorage, namespace: string, name: string): HeadRecord | null {
  const ref = bundleRef(namespace, name);
  const row = sql
    .exec<BundleVersionRow>(
      "SELECT * FROM bundle_versions WHERE name = ? AND signature IS NOT NULL ORDER BY version DESC LIMIT 1",
      name,
    )
    .toArray()[0];
  const sealed = row ? sealedOf(ref, row) : null;
  if (!sealed) return null;
  return {
    v: 1,
    key: ref.key,
    version: sealed.meta.version,
    etag: sealed.meta.etag,
    publishedAt: sealed.meta.publishedAt,
    deleted: false,
    rollout: null,
  };
}
