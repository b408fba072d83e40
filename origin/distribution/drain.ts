/**
 * Moving committed changes from the NamespaceStore's SQLite to KV and out of the edge caches.
 * For each pending key: every snapshot not yet in KV, then the head (re-read from SQL, so it is
 * always the newest committed state and never points at a snapshot missing from KV), then one
 * purge for everything. A row leaves the outbox only when all of that succeeded and nothing newer
 * was committed meanwhile; otherwise it stays for the next attempt (every write is idempotent).
 */
import {
  bundleRef,
  DEFAULT_FRESHNESS_TTL,
  encodeSnapshot,
  type HeadRecord,
  kvKeys,
  type RolloutHead,
  type SnapshotMeta,
  signFreshness,
} from "../../core";
import {
  type BundleSigner,
  bundleHead,
  markBundleWritten,
  sealBundle,
  unwrittenBundleVersions,
} from "../store/bundle-tables";
import { rolloutHeadFor } from "../store/rollouts";
import {
  type KeyRow,
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
import {
  latestRoot,
  markRootWritten,
  pruneProofs,
  readProof,
  redactedVersions,
  unwrittenRoots,
  writeProof,
} from "../store/trust-tables";
import { halfLife } from "./freshness-clock";
import type { Purger } from "./purger";

/** The part of a KV binding the drain uses: tests wrap it to inject failures. */
export interface KvWriter {
  put(key: string, value: string | ArrayBuffer | ArrayBufferView): Promise<unknown>;
}

export interface DistributionDeps {
  kv: KvWriter;
  /** Removes a KV record (a redacted version's snapshot). */
  deleteKv: (name: string) => Promise<unknown>;
  purger: Purger;
  /**
   * The snapshot key (the origin's SIGNING_KEYS[0]) that signs Config-Freshness proofs and seals
   * bundle manifests (bundle-tables.ts) before they go to KV.
   */
  signer: BundleSigner;
  /**
   * The namespace this store holds (recorded in `meta` when its first bundle is defined): bundle
   * pseudo-keys are `bundle:{namespace}/{name}`.
   */
  namespace: string | null;
  /** Seconds since the epoch, for the proofs' `iat` (tests move it). */
  nowSeconds?: () => number;
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
  await within(deps, name, deps.kv.put(name, value));
}

async function within(deps: DistributionDeps, name: string, write: Promise<unknown>): Promise<void> {
  const timeoutMs = deps.kvTimeoutMs ?? KV_WRITE_TIMEOUT_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`KV write of ${name} took over ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([write, timeout]);
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
      } else if (row.kind === "redaction") {
        // The head naming the version redacted goes first, so an edge that still holds the bytes
        // in a tier answers 410 from the head; then the bytes leave KV, then the caches (purge).
        await distributeKey(sql, deps, row.target);
        for (const version of redactedVersions(sql, row.target)) {
          const name = kvKeys.snapshot(row.target, version);
          await within(deps, name, deps.deleteKv(name));
        }
        keys.push(row.target);
      } else if (row.kind === "root") {
        await distributeRoots(sql, deps);
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
    if (keys.length > 0 || namespaces.length > 0)
      await deps.purger.purge({ keys: [...new Set(keys)], namespaces });
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
    if (!record || record.redactedAt !== undefined) continue;
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
  const servable = state.deleted ? [] : [headVersion, ...(rollout ? [rollout.candidate.version] : [])];
  const freshness = await proofsFor(sql, deps, key, servable);
  // From the state read before the awaits: a change committed meanwhile is drained next round,
  // and this head never names a snapshot this round did not write.
  const head = headRecordOf(sql, key, { freshness, state, rollout });
  if (!head) throw new Error(`head of ${key} points at missing version ${headVersion}`);
  await putWithin(deps, kvKeys.head(key), JSON.stringify(head));
  return written;
}

/**
 * The head of `key` as SQLite has it now (null when never published): the one the drain writes
 * to KV and the origin answers the edge with (routes/internal-heads.ts). `freshness` defaults to
 * the stored proofs (only the drain signs new ones).
 */
export function headRecordOf(
  sql: SqlStorage,
  key: string,
  at: { freshness?: Record<string, string>; state?: KeyRow; rollout?: RolloutHead | null } = {},
): HeadRecord | null {
  const state = at.state ?? readKey(sql, key);
  if (!state || state.current_version === null) return null;
  const current = readVersion(sql, key, state.current_version);
  if (!current) return null;
  const rollout = state.deleted ? null : at.rollout !== undefined ? at.rollout : rolloutHeadFor(sql, key);
  const freshness = at.freshness;
  const servable = state.deleted ? [] : [current.version, ...(rollout ? [rollout.candidate.version] : [])];
  const proofs: Record<string, string> = {};
  if (freshness) Object.assign(proofs, freshness);
  else {
    for (const version of servable) {
      const stored = readProof(sql, key, version);
      if (stored) proofs[String(version)] = stored.proof;
    }
  }
  return {
    v: 1,
    key,
    version: current.version,
    etag: current.etag,
    // For a tombstone, when it was deleted; the edge answers 404 whatever the time.
    publishedAt: state.deleted ? state.updated_at : current.publishedAt,
    deleted: state.deleted === 1,
    rollout,
    floor: state.floor,
    redacted: redactedVersions(sql, key),
    freshness: proofs,
  };
}

/**
 * The Config-Freshness proof of each servable version (DESIGN §8): the stored one while it is
 * before half of its lifetime, else a new one, signed here because the edge holds no private key.
 * `exp − iat` is the namespace's freshnessTtl. The alarm (freshness-clock.ts) re-drains keys whose
 * proofs reach half-life, so a served proof always has at least half its lifetime left at signing.
 */
async function proofsFor(
  sql: SqlStorage,
  deps: DistributionDeps,
  key: string,
  versions: number[],
): Promise<Record<string, string>> {
  const now = deps.nowSeconds?.() ?? Math.floor(Date.now() / 1000);
  const ttl = readSettings(sql).freshnessTtl ?? DEFAULT_FRESHNESS_TTL;
  const proofs: Record<string, string> = {};
  for (const version of versions) {
    const stored = readProof(sql, key, version);
    // A stored proof longer than the current ttl (the ttl was lowered) is re-signed too.
    if (stored && now < halfLife(stored) && stored.exp - stored.iat <= ttl) {
      proofs[String(version)] = stored.proof;
      continue;
    }
    const record = readVersion(sql, key, version);
    if (!record) continue;
    const payload = { key, ver: version, digest: record.digest, iat: now, exp: now + ttl };
    const proof = await signFreshness(deps.signer.key, deps.signer.kid, payload);
    writeProof(sql, { key, version, proof, iat: payload.iat, exp: payload.exp });
    proofs[String(version)] = proof;
  }
  pruneProofs(sql, key, versions);
  return proofs;
}

/** Every stored root not yet in KV (`root/{N}`, immutable), then `root/latest` (the newest). */
async function distributeRoots(sql: SqlStorage, deps: DistributionDeps): Promise<void> {
  const rows = unwrittenRoots(sql);
  for (const row of rows) {
    await putWithin(deps, kvKeys.root(row.version), row.document);
    markRootWritten(sql, row.version);
  }
  // Re-read, not rows.at(-1): a retry after a failed `latest` put finds every root written already.
  const newest = latestRoot(sql);
  if (newest) await putWithin(deps, kvKeys.rootLatest, newest.document);
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
