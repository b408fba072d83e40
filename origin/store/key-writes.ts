/**
 * The writes of a key's content: publish, rollback and delete, each lock → check → commit
 * (commit.ts), then one drain so the answer can say whether the change reached KV and the edge.
 * Rollouts (rollouts.ts) and key schemas (key-schemas.ts) follow the same shape.
 */
import { contentDigestOf, sha256 } from "../../core";
import { bundlesNaming } from "./bundle-tables";
import { commitChange } from "./commit";
import { schemaViolation } from "./key-schemas";
import { preconditionFailure } from "./preconditions";
import { type Committed, planPublish } from "./publish-plan";
import { redactedDetail } from "./redaction";
import { failure, type StoreResult, success } from "./result";
import { rolloutConflict } from "./rollouts";
import type { CommitOptions, StoreCore } from "./store-core";
import { type KeyRow, readBody, readKey, readLive, readVersion, writeKey } from "./tables";
import {
  type AuditDetail,
  type ChangeRequestRecord,
  type DeleteInput,
  type DeleteOutcome,
  type HeldChange,
  isHeld,
  type PublishInput,
  type RollbackInput,
  type WriteOutcome,
} from "./types";

/**
 * What a gated write does once every check has passed, inside its lock: with `hold` (the
 * namespace needs approval) it stores a change request instead of committing — `hold` answers
 * null when no approval is needed; with `approval` (an approved request being applied) the
 * commit's audit entry names the approver and the request's final state is written in the same
 * transaction (store/change-requests.ts).
 */
export interface WriteGate {
  /** `digest`: of the bytes the write would publish (a key's), null for a change set. */
  hold?: (digest: string | null) => ChangeRequestRecord | null;
  approval?: Approval;
}

export interface Approval {
  detail: AuditDetail;
  /** The request's final writes, given the version made or deleted (null: a change set's several) and the time. */
  write: (version: number | null, at: number) => void;
}

/** The commit options of an approved write: the approver in its audit detail, its writes alongside. */
function approved(options: CommitOptions, approval: Approval | undefined): CommitOptions {
  if (!approval) return options;
  return {
    ...options,
    detail: { ...options.detail, ...approval.detail },
    alongside: (version, at) => {
      options.alongside?.(version, at);
      approval.write(version, at);
    },
  };
}

export async function publishKey(
  core: StoreCore,
  input: PublishInput,
  gate: WriteGate = {},
): Promise<StoreResult<WriteOutcome | HeldChange>> {
  const result = await core.locked(() => publishLocked(core, input, gate));
  return distributed(core, input.key, result);
}

/** Checks and commits a publish; the caller holds the write lock (approving a request does). */
export async function publishLocked(
  core: StoreCore,
  input: PublishInput,
  gate: WriteGate,
): Promise<StoreResult<Committed | HeldChange>> {
  const digest = contentDigestOf(await sha256(input.body));
  const plan = planPublish(core.sql, input, digest);
  if (plan.kind === "answer") return plan.result;
  const held = gate.hold?.(digest);
  if (held) return success({ held });
  const record = await core.commitVersion(input, input.body, approved(plan.options, gate.approval));
  return success({ created: true, record });
}

/** Publishes an earlier version's bytes as a new version (versions only grow, DESIGN §2). */
export async function rollbackKey(
  core: StoreCore,
  input: RollbackInput,
  gate: WriteGate = {},
): Promise<StoreResult<WriteOutcome | HeldChange>> {
  const result = await core.locked(() => rollbackLocked(core, input, gate));
  return distributed(core, input.key, result);
}

export async function rollbackLocked(
  core: StoreCore,
  input: RollbackInput,
  gate: WriteGate,
): Promise<StoreResult<Committed | HeldChange>> {
  const { sql } = core;
  const target = readVersion(sql, input.key, input.to);
  if (!target) return failure("not_found", `Version ${input.to} of ${input.key} does not exist.`);
  if (target.redactedAt !== undefined) return failure("gone", redactedDetail(input.key, input.to));
  const live = readLive(sql, input.key);
  const failed = preconditionFailure(live, input);
  if (failed) return failure("precondition_failed", failed);
  const conflict = rolloutConflict(sql, input.key, "a rollback");
  if (conflict) return failure("conflict", conflict);
  if (live && live.digest === target.digest && live.size === target.size) {
    return success({ created: false, record: live });
  }
  const body = readBody(sql, input.key, input.to);
  const invalid = schemaViolation<Committed>(sql, input.key, body, `Version ${input.to}`);
  if (invalid) return invalid;
  const held = gate.hold?.(target.digest);
  if (held) return success({ held });
  const record = await core.commitVersion(
    input,
    body,
    approved({ action: "rollback", live, detail: { to: input.to } }, gate.approval),
  );
  return success({ created: true, record });
}

/** After the lock: a committed write is drained at once; a held one has nothing to distribute. */
async function distributed(
  core: StoreCore,
  key: string,
  result: StoreResult<Committed | HeldChange>,
): Promise<StoreResult<WriteOutcome | HeldChange>> {
  if (!result.ok) return result;
  if (isHeld(result.value)) return success(result.value);
  return success({ ...result.value, distribution: await core.distribute(key) });
}

/** Tombstones the key; its versions and history stay, so it can be restored by a rollback. */
export async function removeKey(
  core: StoreCore,
  input: DeleteInput,
  gate: WriteGate = {},
): Promise<StoreResult<DeleteOutcome | HeldChange>> {
  const result = await core.locked(async () => removeLocked(core, input, gate));
  if (!result.ok) return result;
  if (isHeld(result.value)) return success(result.value);
  const distribution = await core.distribute(input.key);
  return success({ key: input.key, version: result.value.version, deletedAt: result.value.at, distribution });
}

export type Removed = { version: number; at: number };

export function removeLocked(
  core: StoreCore,
  input: DeleteInput,
  gate: WriteGate,
): StoreResult<Removed | HeldChange> {
  const { sql } = core;
  const row = readKey(sql, input.key);
  const live = readLive(sql, input.key);
  if (!row || !live) return failure("not_found", notFound(input.key, row));
  const failed = preconditionFailure(live, input);
  if (failed) return failure("precondition_failed", failed);
  const conflict = rolloutConflict(sql, input.key, "a delete");
  if (conflict) return failure("conflict", conflict);
  // A bundle's manifest names a live version of every member (docs/bundles.md).
  const naming = bundlesNaming(sql, input.key);
  if (naming.length > 0) {
    return failure(
      "conflict",
      `${input.key} is a member of bundle ${naming.join(", ")}: redefine the bundle without it first.`,
    );
  }
  const held = gate.hold?.(live.digest);
  if (held) return success({ held });
  const at = Date.now();
  commitChange(core, {
    at,
    write: () => {
      writeKey(sql, { ...row, deleted: 1, updated_at: at });
      gate.approval?.write(live.version, at);
    },
    audit: {
      actor: input.actor,
      action: "delete",
      key: input.key,
      message: input.message,
      fromVersion: live.version,
      toVersion: null,
      digest: live.digest,
      detail: gate.approval?.detail ?? null,
    },
    outbox: { kind: "key", target: input.key },
    log: { namespace: input.namespace, key: input.key, version: live.version, actor: input.actor },
  });
  return success({ version: live.version, at });
}

export function notFound(key: string, row: KeyRow | null): string {
  return row?.deleted ? `${key} was deleted.` : `${key} was never published.`;
}
