/**
 * What the NamespaceStore hands to the modules that implement its rollout and schema operations
 * (key-writes.ts, rollouts.ts, key-schemas.ts): its SQLite, its write lock, its one way to commit a new version, and
 * its distribution step. Keeps the Durable Object class an assembly of small operations.
 */

import type { OriginVars } from "../env-vars";
import type { GateWatcher } from "./fleet-types";
import type { AuditAction, AuditDetail, ChangeMeta, Distribution, RolloutSpec, VersionRecord } from "./types";

export interface CommitOptions {
  action: AuditAction;
  /** The version this one follows, for the audit entry's `fromVersion`. */
  live: VersionRecord | null;
  detail: AuditDetail | null;
  /** Publish as the candidate of a new rollout over `live`, which stays the key's live version. */
  startRollout?: RolloutSpec;
  /** More writes for the same SQL transaction, given the new version number and the time. */
  alongside?: (version: number, at: number) => void;
}

export interface StoreCore {
  readonly sql: SqlStorage;
  /** Runs synchronous SQL writes as one transaction. */
  transaction(work: () => void): void;
  /** Runs a read-decide-write sequence under the namespace's write lock. */
  locked<T>(work: () => Promise<T>): Promise<T>;
  /** Signs and commits a new version with its audit entry and outbox row (call under the lock). */
  commitVersion(change: ChangeMeta, body: Uint8Array, options: CommitOptions): Promise<VersionRecord>;
  /** The origin's snapshot signing key (a change set signs its versions before one commit). */
  signingKey(): Promise<{ key: CryptoKey; kid: string }>;
  /** Drains the outbox now; says whether the key's change reached KV and the edge. */
  distribute(key: string): Promise<Distribution>;
}

/** What the NamespaceStore reads from its env: the settings config.ts parses, and KV to drain to. */
export interface StoreEnv extends OriginVars {
  CONFIGS: KVNamespace;
  /** The namespace's FleetStore, which watches health-gated rollouts (fleet-store.ts). */
  FLEET?: DurableObjectNamespace<GateWatcher>;
}
