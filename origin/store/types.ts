/** Values exchanged with the NamespaceStore over RPC: plain, structured-clonable data. */
import type {
  ChangeRequestKind,
  ChangeRequestState,
  HealthGates,
  NamespaceSettings,
  Ring,
  SnapshotMeta,
} from "../../core";

/** Whether a change has reached KV and the edge caches yet (DESIGN §4). */
export type Distribution = "complete" | "pending";

/** A published version: its snapshot's metadata (core/snapshot.ts) plus who published it and why. */
export interface VersionRecord extends SnapshotMeta {
  author: string;
  message: string | null;
  /** Set once the version's bytes were redacted (ms): its body is gone everywhere. */
  redactedAt?: number;
}

export interface Preconditions {
  /** Raw `If-Match` value, syntax already checked by the route. */
  ifMatch: string | null;
  /** Raw `If-None-Match` value, syntax already checked by the route. */
  ifNoneMatch: string | null;
}

export interface ChangeMeta {
  namespace: string;
  key: string;
  /** The token's `sub`: who made the change, for the audit log. */
  actor: string;
  message: string | null;
}

export interface PublishInput extends ChangeMeta, Preconditions {
  body: Uint8Array;
  /** From `Config-Rollout`: publish as a candidate served to a share of clients (docs/rollouts.md). */
  rollout?: RolloutSpec | null;
}

/** How a rollout's share is set: a fixed percent, or start + step every `everySeconds`. */
export interface RolloutSpec {
  mode: "fixed" | "linear";
  percent: number;
  start: number;
  step: number;
  everySeconds: number;
  /** Health gates from `Config-Rollout` (core HealthGates); null or absent: none. */
  gates?: HealthGates | null;
  /** Where the share applies (core/rings.ts, `colos="…"`/`continents="…"`); null or absent: everywhere. */
  ring?: Ring | null;
}

/** Why the origin aborted a rollout by itself: the health gate's figures when it tripped. */
export interface AutoAbort {
  trigger: "health-gate" | "alarm";
  at: number;
  reporting: number;
  rejected: number;
  rejectedPercent: number;
  maxRejected: number | null;
  minClients: number | null;
  reasons: { reason: string; clients: number }[];
  /** For an external alarm: its name and note. */
  alarm?: { name: string; detail: string | null };
}

/** What FleetStore's gate check (or the external alarm route) found: why the origin aborts. */
export interface HealthAbortInput {
  namespace: string;
  key: string;
  candidate: number;
  autoAbort: AutoAbort;
}

export type RolloutOutcome = "completed" | "aborted";

/** One rollout of a key, running (`endedAt` null) or finished. */
export interface RolloutRecord extends RolloutSpec {
  id: number;
  key: string;
  stableVersion: number;
  candidateVersion: number;
  startedAt: number;
  startedBy: string;
  message: string | null;
  updatedAt: number;
  updatedBy: string;
  endedAt: number | null;
  endedBy: string | null;
  outcome: RolloutOutcome | null;
  /** The version everyone got when it ended: the candidate (completed) or the restoring version (aborted). */
  resultVersion: number | null;
  /** Set when the origin aborted it by itself (health gate or external alarm). */
  autoAbort: AutoAbort | null;
}

/** A key's rollout state: its live (stable) version, and its running or latest rollout. */
export interface RolloutView {
  key: string;
  live: VersionRecord;
  rollout: RolloutRecord | null;
  candidate: VersionRecord | null;
}

/** PATCH …/-/rollout: a new fixed share, a wider ring, or both (at least one). */
export interface RolloutUpdateInput extends ChangeMeta {
  percent?: number;
  /**
   * The ring's new lists (each given list replaces the current one; checked, non-empty), or null
   * to drop the ring (everywhere); absent: unchanged.
   */
  ring?: { colos?: string[]; continents?: string[] } | null;
}

export interface RolloutChange {
  view: RolloutView;
  distribution: Distribution;
}

/** A published version that failed the key's JSON Schema: where, and why (RFC 6901 pointers). */
export interface SchemaError {
  pointer: string;
  message: string;
  keyword: string;
  schemaLocation: string;
}

export interface SchemaRecord {
  key: string;
  /** The schema document's exact bytes. */
  body: Uint8Array;
  digest: string;
  updatedAt: number;
  updatedBy: string;
}

export interface SchemaInput extends ChangeMeta {
  body: Uint8Array;
}

export interface SchemaOutcome {
  record: SchemaRecord;
  created: boolean;
  changed: boolean;
}

export interface RollbackInput extends ChangeMeta, Preconditions {
  to: number;
}

export interface DeleteInput extends ChangeMeta, Preconditions {}

export interface RedactInput extends ChangeMeta {
  version: number;
}

/** `redacted: false` when the version had been redacted already (a retry: nothing new). */
export interface RedactOutcome {
  key: string;
  version: number;
  redacted: boolean;
  redactedAt: number;
  distribution: Distribution;
}

/** 201 when a new version was made, 200 when the bytes equal the current version's. */
export interface WriteOutcome {
  created: boolean;
  record: VersionRecord;
  distribution: Distribution;
}

export interface DeleteOutcome {
  key: string;
  /** The last version, kept in history. */
  version: number;
  deletedAt: number;
  distribution: Distribution;
}

export interface StoredVersion {
  record: VersionRecord;
  body: Uint8Array;
  /** True for the key's live current version. */
  current: boolean;
}

export interface HistoryPage {
  versions: VersionRecord[];
  /** Versions below this one come next; null at the end. */
  nextBefore: number | null;
}

export type SettingsPatch = Partial<NamespaceSettings>;

export interface SettingsOutcome {
  settings: NamespaceSettings;
  changed: boolean;
  distribution: Distribution;
}

/**
 * A member of an audit entry's detail, typed so RPC can serialise it: `unknown` (and deeply
 * recursive JSON types) cannot cross a Durable Object RPC boundary in TypeScript.
 */
export type Scalar = string | number | boolean | null;
export type AuditDetail = { [member: string]: Scalar | { from: Scalar; to: Scalar } };

export type AuditAction =
  | "publish"
  | "rollback"
  | "delete"
  | "namespace"
  | "token"
  | "rollout_start"
  | "rollout_update"
  | "rollout_complete"
  | "rollout_abort"
  | "schema_set"
  | "schema_delete"
  | "change_set"
  | "bundle_set"
  | "redact"
  | "root"
  | "change_request_created"
  | "change_request_approved"
  | "change_request_rejected"
  | "change_request_failed"
  | "change_request_expired";

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: AuditAction;
  key: string | null;
  fromVersion: number | null;
  toVersion: number | null;
  message: string | null;
  digest: string | null;
  /** Action-specific facts (a namespace change's fields, a token's scope and expiry). Never a secret. */
  detail: AuditDetail | null;
}

export interface AuditQuery {
  key: string | null;
  /** Entries at or after this time (ms). */
  since: number | null;
  /** Entries with an id above this one (the page cursor). */
  afterId: number | null;
  limit: number;
}

export interface AuditPage {
  entries: AuditEntry[];
  /** The id to continue after; null at the end. */
  nextAfter: number | null;
}

export interface TokenAuditInput {
  actor: string;
  scope: string;
  expiresAt: number;
}

/** A write held for a second admin (store/change-requests.ts), without its stored bytes. */
export interface ChangeRequestRecord {
  id: number;
  namespace: string;
  kind: ChangeRequestKind;
  /** The key of a publish, rollback or delete; null for a change set. */
  key: string | null;
  /** Every key the change touches (one, or a change set's members). */
  keys: string[];
  author: string;
  createdAt: number;
  expiresAt: number;
  message: string | null;
  /** Content-Digest of the bytes held (a publish's document, a change set's members). */
  digest: string | null;
  size: number;
  ifMatch: string | null;
  ifNoneMatch: string | null;
  /**
   * The key's live ETag when the request was made (null: no live version), for a publish, rollback
   * or delete: what its reviewer saw. Approval fails (412) when the key has moved on since, unless
   * the request carried its own If-Match / If-None-Match.
   */
  baseEtag: string | null;
  rollout: RolloutSpec | null;
  /** A rollback's target version. */
  to: number | null;
  /** As of the read: a pending request past its expiry reads `expired`. */
  state: ChangeRequestState;
  decidedAt: number | null;
  decidedBy: string | null;
  /** The approver's note, the rejection's reason, or why applying it failed. */
  reason: string | null;
  /** The version an approved publish or rollback made (or found current), a delete's last. */
  resultVersion: number | null;
}

/** A write the namespace's approval setting held: nothing changed yet. */
export interface HeldChange {
  held: ChangeRequestRecord;
}

export function isHeld<T extends object>(outcome: T | HeldChange): outcome is HeldChange {
  return "held" in outcome;
}

export interface ChangeRequestQuery {
  state: ChangeRequestState | "all";
  /** Requests with an id below this one (the page cursor). */
  before: number | null;
  limit: number;
}

export interface ChangeRequestPage {
  requests: ChangeRequestRecord[];
  nextBefore: number | null;
}

export interface DecisionInput {
  namespace: string;
  id: number;
  /** The deciding token's `sub`. */
  actor: string;
  /** The approver's note or the rejection's reason. */
  reason: string | null;
}
