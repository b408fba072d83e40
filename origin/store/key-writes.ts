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
import type { StoreCore } from "./store-core";
import { type KeyRow, readBody, readKey, readLive, readVersion, writeKey } from "./tables";
import type { DeleteInput, DeleteOutcome, PublishInput, RollbackInput, WriteOutcome } from "./types";

export async function publishKey(core: StoreCore, input: PublishInput): Promise<StoreResult<WriteOutcome>> {
  const digest = contentDigestOf(await sha256(input.body));
  const result = await core.locked(async () => {
    const plan = planPublish(core.sql, input, digest);
    if (plan.kind === "answer") return plan.result;
    const record = await core.commitVersion(input, input.body, plan.options);
    return success<Committed>({ created: true, record });
  });
  if (!result.ok) return result;
  return success({ ...result.value, distribution: await core.distribute(input.key) });
}

/** Publishes an earlier version's bytes as a new version (versions only grow, DESIGN §2). */
export async function rollbackKey(core: StoreCore, input: RollbackInput): Promise<StoreResult<WriteOutcome>> {
  const { sql } = core;
  const result = await core.locked(async () => {
    const target = readVersion(sql, input.key, input.to);
    if (!target)
      return failure<Committed>("not_found", `Version ${input.to} of ${input.key} does not exist.`);
    if (target.redactedAt !== undefined)
      return failure<Committed>("gone", redactedDetail(input.key, input.to));
    const live = readLive(sql, input.key);
    const failed = preconditionFailure(live, input);
    if (failed) return failure<Committed>("precondition_failed", failed);
    const conflict = rolloutConflict(sql, input.key, "a rollback");
    if (conflict) return failure<Committed>("conflict", conflict);
    if (live && live.digest === target.digest && live.size === target.size) {
      return success<Committed>({ created: false, record: live });
    }
    const body = readBody(sql, input.key, input.to);
    const invalid = schemaViolation<Committed>(sql, input.key, body, `Version ${input.to}`);
    if (invalid) return invalid;
    const record = await core.commitVersion(input, body, {
      action: "rollback",
      live,
      detail: { to: input.to },
    });
    return success<Committed>({ created: true, record });
  });
  if (!result.ok) return result;
  return success({ ...result.value, distribution: await core.distribute(input.key) });
}

/** Tombstones the key; its versions and history stay, so it can be restored by a rollback. */
export async function removeKey(core: StoreCore, input: DeleteInput): Promise<StoreResult<DeleteOutcome>> {
  const { sql } = core;
  type Removed = { version: number; at: number };
  const result = await core.locked(async () => {
    const row = readKey(sql, input.key);
    const live = readLive(sql, input.key);
    if (!row || !live) return failure<Removed>("not_found", notFound(input.key, row));
    const failed = preconditionFailure(live, input);
    if (failed) return failure<Removed>("precondition_failed", failed);
    const conflict = rolloutConflict(sql, input.key, "a delete");
    if (conflict) return failure<Removed>("conflict", conflict);
    // A bundle's manifest names a live version of every member (docs/bundles.md).
    const naming = bundlesNaming(sql, input.key);
    if (naming.length > 0) {
      return failure<Removed>(
        "conflict",
        `${input.key} is a member of bundle ${naming.join(", ")}: redefine the bundle without it first.`,
      );
    }
    const at = Date.now();
    commitChange(core, {
      at,
      write: () => writeKey(sql, { ...row, deleted: 1, updated_at: at }),
      audit: {
        actor: input.actor,
        action: "delete",
        key: input.key,
        message: input.message,
        fromVersion: live.version,
        toVersion: null,
        digest: live.digest,
        detail: null,
      },
      outbox: { kind: "key", target: input.key },
      log: { namespace: input.namespace, key: input.key, version: live.version, actor: input.actor },
    });
    return success<Removed>({ version: live.version, at });
  });
  if (!result.ok) return result;
  const distribution = await core.distribute(input.key);
  return success({ key: input.key, version: result.value.version, deletedAt: result.value.at, distribution });
}

export function notFound(key: string, row: KeyRow | null): string {
  return row?.deleted ? `${key} was deleted.` : `${key} was never published.`;
}
