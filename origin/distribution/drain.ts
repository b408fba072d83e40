/**
 * Moving committed changes from the NamespaceStore's SQLite to KV and out of the edge caches.
 * For each pending key: every snapshot not yet in KV, then the head (re-read from SQL, so it is
 * always the newest committed state and never points at a snapshot missing from KV), then one
 * purge for everything. A row leaves the outbox only when all of that succeeded and nothing newer
 * was committed meanwhile; otherwise it stays for the next attempt (every write is idempotent).
 */
import { bundleRef, encodeSnapshot, type HeadRecord, kvKeys, type SnapshotMeta } from "../../core";
import {
  type BundleSigner,
  bundleHead,
  markBundleWritten,
  sealBundle,
  unwrittenBundleVersions,
} from "../store/bundle-tables";
import { rolloutHeadFor } from "../store/rollouts";
import {
  listOutbox,
  markWritten,
  type OutboxRow,
  readBody,
  readKey,
  readSettings,
  readVersion,
  settle,
  unwrittenVersions,
} from "../store/tables";
import type { Purger } from "./purger";

/** The part of a KV binding the drain uses: tests wrap it to inject failures. */
export interface KvWriter {
  put(key: string, value: string | ArrayBuffer | ArrayBufferView): Promise<unknown>;
}

export interface DistributionDeps {
  kv: KvWriter;
  purger: Purger;
  /** Seals bundle manifests (bundle-tables.ts) before they go to KV. */
  signer: BundleSigner;
  /**
   * The namespace this store holds (recorded in `meta` when its first bundle is defined): bundle
   * pseudo-keys are `bundle:{namespace}/{name}`.
   */
  namespace: string | null;
  /** How long one KV write may take before the drain gives up and retries later (default 10 s). */
  kvTimeoutMs?: number;
}

export const KV_WRITE_TIMEOUT_MS = 10_000;

/**
 * A KV write bounded in time. A write that never settles would otherwise hold the publish that
 * awaits this drain and, since drains are single flight, every later drain of the namespace.
 * A write that lands after its timeout is rewritten by the retry; one delayed past that retry could
 * put an older head back until the next change (KV is last-write-wins), but never a head whose
 * snapshot is missing, since snapshots are written, and awaited, first.
 */
async function putWithin(deps: DistributionDeps, name: string, value: string | Uint8Array): Promise<void> {
  const timeoutMs = deps.kvTimeoutMs ?? KV_WRITE_TIMEOUT_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`KV write of ${name} took over ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([deps.kv.put(name, value), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export type DrainReport =
  | { ok: true; keys: string[]; namespaces: string[]; snapshots: number }
  | { ok: false; error: string };

export async function drainOutbox(sql: SqlStorage, deps: DistributionDeps): Promise<DrainReport> {
  const rows = listOutbox(sql);
  const keys: string[] = [];
  const namespaces: string[] = [];
  let snapshots = 0;
  try {
    // Keys first, then bundles: a manifest reaches KV only after the member snapshots it names.
    for (const row of rows) {
      if (row.kind === "key") {
        snapshots += await distributeKey(sql, deps, row.target);
        keys.push(row.target);
      } else if (row.kind === "namespace") {
        await putWithin(deps, kvKeys.namespace(row.target), JSON.stringify(readSettings(sql)));
        namespaces.push(row.target);
      }
    }
    for (const row of rows) {
      if (row.kind !== "bundle") continue;
      const namespace = deps.namespace;
      if (namespace === null)
        throw new Error(`bundle ${row.target} pending but the namespace is not recorded`);
      snapshots += await distributeBundle(sql, deps, namespace, row.target);
      keys.push(bundleRef(namespace, row.target).key);
    }
    if (keys.length > 0 || namespaces.length > 0) await deps.purger.purge({ keys, namespaces });
  } catch (error) {
    return { ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
  for (const row of rows) settle(sql, row as OutboxRow);
  return { ok: true, keys, namespaces, snapshots };
}

/** Writes a key's missing snapshots, then its head. Returns how many snapshots were written. */
async function distributeKey(sql: SqlStorage, deps: DistributionDeps, key: string): Promise<number> {
  const state = readKey(sql, key);
  if (!state || state.current_version === null) return 0;
  const headVersion = state.current_version;
  // Read with the key's state, before any await, so the head describes one committed moment. A
  // running rollout's candidate is above the live version: its snapshot goes to KV first too.
  const rollout = state.deleted ? null : rolloutHeadFor(sql, key);
  let written = 0;
  for (const version of unwrittenVersions(sql, key, Math.max(headVersion, rollout?.candidate.version ?? 0))) {
    const record = readVersion(sql, key, version);
    if (!record) continue;
    const meta: SnapshotMeta = {
      key,
      version,
      etag: record.etag,
      digest: record.digest,
      signature: record.signature,
      publishedAt: record.publishedAt,
      size: record.size,
    };
    await putWithin(
      deps,
      kvKeys.snapshot(key, version),
      encodeSnapshot({ meta, body: readBody(sql, key, version) }),
    );
    markWritten(sql, key, version);
    written++;
  }
  const current = readVersion(sql, key, headVersion);
  if (!current) throw new Error(`head of ${key} points at missing version ${headVersion}`);
  const head: HeadRecord = {
    v: 1,
    key,
    version: headVersion,
    etag: current.etag,
    // For a tombstone, when it was deleted; the edge answers 404 whatever the time.
    publishedAt: state.deleted ? state.updated_at : current.publishedAt,
    deleted: state.deleted === 1,
    rollout,
  };
  await putWithin(deps, kvKeys.head(key), JSON.stringify(head));
  return written;
}

/**
 * A bundle's manifest travels as a config under its pseudo-key (core/bundles.ts): seal the new
 * versions, write their snapshots, then the head. Returns how many snapshots were written.
 */
async function distributeBundle(
  sql: SqlStorage,
  deps: DistributionDeps,
  namespace: string,
  name: string,
): Promise<number> {
  const { key } = bundleRef(namespace, name);
  await sealBundle(sql, namespace, name, deps.signer);
  let written = 0;
  for (const version of unwrittenBundleVersions(sql, namespace, name)) {
    await putWithin(deps, kvKeys.snapshot(key, version.meta.version), encodeSnapshot(version));
    markBundleWritten(sql, name, version.meta.version);
    written++;
  }
  const head = bundleHead(sql, namespace, name);
  if (head) await putWithin(deps, kvKeys.head(key), JSON.stringify(head));
  return written;
}
