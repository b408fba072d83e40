/**
 * Four-eyes change requests (docs/operations.md, "Approvals (four-eyes)"), decided. A write the
 * namespace held (change-request-hold.ts) is approved — by a token subject other than its author
 * — by applying it under the write lock through the direct write's own locked code path, with
 * the stored bytes and preconditions; the request's final state and its audit entry are written
 * in the write's own transaction. A check that no longer holds fails the request with the write's
 * own error. Expiry is computed on read (core effectiveState) and recorded, with its audit entry,
 * when a decision or a new request finds it.
 */
import { changeSetMembers, recordExpired, requestAudit } from "./change-request-hold";
import { decideRequest, readRequest, readRequestBody } from "./change-request-tables";
import {
  applyChangeSetLocked,
  type ChangeSetOutcome,
  distributeChangeSet,
  type MemberOutcome,
} from "./change-sets";
import { commitChange } from "./commit";
import { type Approval, publishLocked, removeLocked, rollbackLocked, type WriteGate } from "./key-writes";
import { failure, type StoreResult, success } from "./result";
import type { StoreCore } from "./store-core";
import { appendAudit, readBody, readLive } from "./tables";
import {
  type ChangeRequestRecord,
  type DecisionInput,
  type DeleteOutcome,
  isHeld,
  type WriteOutcome,
} from "./types";

/** The outcome of approving: the write's own outcome, and the request as it now stands. */
export type ApprovedChange =
  | { kind: "publish" | "rollback"; request: ChangeRequestRecord; outcome: WriteOutcome }
  | { kind: "delete"; request: ChangeRequestRecord; outcome: DeleteOutcome }
  | { kind: "changes"; request: ChangeRequestRecord; outcome: ChangeSetOutcome };

/** A decision's request, if it can still be decided: 404 unknown, 410 expired, 409 decided. */
function decidable(core: StoreCore, input: DecisionInput, nowMs: number): StoreResult<ChangeRequestRecord> {
  const request = readRequest(core.sql, input.namespace, input.id, nowMs);
  if (!request) return failure("not_found", `Change request ${input.namespace}/${input.id} does not exist.`);
  if (request.state === "expired") {
    recordExpired(core, input.namespace, nowMs);
    return failure(
      "gone",
      `Change request ${input.namespace}/${input.id} expired at ${new Date(request.expiresAt).toISOString()}: make the change again to request a new approval.`,
    );
  }
  if (request.state !== "pending") {
    return failure(
      "conflict",
      `Change request ${input.namespace}/${input.id} is already ${request.state}${request.decidedBy ? ` (by ${request.decidedBy})` : ""}.`,
    );
  }
  return success(request);
}

export async function rejectRequest(
  core: StoreCore,
  input: DecisionInput,
  nowMs: number,
): Promise<StoreResult<ChangeRequestRecord>> {
  return core.locked(async () => {
    const found = decidable(core, input, nowMs);
    if (!found.ok) return found;
    const request = found.value;
    commitChange(core, {
      at: nowMs,
      write: () =>
        decideRequest(core.sql, request.id, {
          state: "rejected",
          at: nowMs,
          by: input.actor,
          reason: input.reason,
          resultVersion: null,
        }),
      audit: requestAudit("change_request_rejected", request, input.actor, input.reason, {
        changeRequest: request.id,
        author: request.author,
      }),
      outbox: null,
      log: { namespace: input.namespace, changeRequest: request.id, actor: input.actor },
    });
    return success(reread(core, input, nowMs));
  });
}

/**
 * Applies a pending request by a second admin, under the write lock, through the direct write's
 * own locked code path; a failure of that write fails the request (and answers with its error).
 */
export async function approveRequest(
  core: StoreCore,
  input: DecisionInput,
  nowMs: number,
): Promise<StoreResult<ApprovedChange>> {
  const applied = await core.locked(async () => {
    const found = decidable(core, input, nowMs);
    if (!found.ok) return found;
    const request = found.value;
    if (request.author === input.actor) {
      return failure<never>(
        "own_approval",
        `Change request ${input.namespace}/${request.id} was made by ${request.author}: it needs the approval of another admin (a token with a different subject).`,
      );
    }
    let recorded = false;
    const approval: Approval = {
      detail: { changeRequest: request.id, approvedBy: input.actor },
      write: (version, at) => {
        recorded = true;
        recordApproval(core, request, input, at, version);
      },
    };
    const result = await applyLocked(core, request, approval);
    if (!result.ok) {
      recordFailure(core, request, input, nowMs, result.detail);
      return failure<never>(
        result.code,
        `${result.detail} Change request ${input.namespace}/${request.id} is now failed.`,
        result.errors,
      );
    }
    // Nothing to commit (the bytes were already current): the request is approved all the same.
    if (!recorded) core.transaction(() => recordApproval(core, request, input, nowMs, result.value.version));
    return success({ request, result: result.value });
  });
  if (!applied.ok) return applied;
  const { request, result } = applied.value;
  const final = reread(core, input, nowMs);
  if (result.kind === "changes") {
    return success({
      kind: "changes",
      request: final,
      outcome: await distributeChangeSet(core, result.value),
    });
  }
  const key = request.key ?? "";
  const distribution = await core.distribute(key);
  if (result.kind === "delete") {
    const { version, at } = result.value;
    return success({
      kind: "delete",
      request: final,
      outcome: { key, version, deletedAt: at, distribution },
    });
  }
  return success({ kind: result.kind, request: final, outcome: { ...result.committed, distribution } });
}

type Applied =
  | {
      kind: "publish" | "rollback";
      version: number;
      committed: { created: boolean; record: WriteOutcome["record"] };
    }
  | { kind: "delete"; version: number; value: { version: number; at: number } }
  | { kind: "changes"; version: null; value: { applied: boolean; changes: MemberOutcome[] } };

/**
 * Why a publish, rollback or delete must not apply now because its key moved on since it was
 * requested — so the reviewer's diff no longer describes it, and approving could silently undo a
 * change made meanwhile — or null. A request with its own If-Match / If-None-Match is judged by
 * those instead; a publish whose bytes are the live version's now is a no-op (200), not a conflict.
 */
function movedSinceRequested(core: StoreCore, request: ChangeRequestRecord): string | null {
  if (request.key === null || request.ifMatch !== null || request.ifNoneMatch !== null) return null;
  const live = readLive(core.sql, request.key);
  if ((live?.etag ?? null) === request.baseEtag) return null;
  if (request.kind === "publish" && live !== null && live.digest === request.digest) return null;
  const then = request.baseEtag === null ? "it had no version" : `its ETag was ${request.baseEtag}`;
  const now = live === null ? "it has none now" : `it is at version ${live.version} now (ETag ${live.etag})`;
  return `${request.key} changed since this request was made (${then}; ${now}): it was reviewed against another version. Make the change again.`;
}

/** The stored request as the write it stands for, run under the caller's lock. */
async function applyLocked(
  core: StoreCore,
  request: ChangeRequestRecord,
  approval: Approval,
): Promise<StoreResult<Applied>> {
  const gate: WriteGate = { approval };
  const meta = {
    namespace: request.namespace,
    key: request.key ?? "",
    actor: request.author,
    message: request.message,
  };
  const conditions = { ifMatch: request.ifMatch, ifNoneMatch: request.ifNoneMatch };
  const moved = movedSinceRequested(core, request);
  if (moved) return failure("precondition_failed", moved);
  const body = readRequestBody(core.sql, request.id);
  if (request.kind === "changes") {
    const result = await applyChangeSetLocked(
      core,
      {
        namespace: request.namespace,
        actor: request.author,
        message: request.message,
        changes: changeSetMembers(body),
      },
      gate,
    );
    if (!result.ok) return result;
    if (isHeld(result.value)) throw new Error("an approved change set was held again");
    return success({ kind: "changes", version: null, value: result.value });
  }
  if (request.kind === "delete") {
    const result = removeLocked(core, { ...meta, ...conditions }, gate);
    if (!result.ok) return result;
    if (isHeld(result.value)) throw new Error("an approved delete was held again");
    return success({ kind: "delete", version: result.value.version, value: result.value });
  }
  const result =
    request.kind === "rollback"
      ? await rollbackLocked(core, { ...meta, ...conditions, to: request.to ?? 0 }, gate)
      : await publishLocked(core, { ...meta, ...conditions, body, rollout: request.rollout }, gate);
  if (!result.ok) return result;
  if (isHeld(result.value)) throw new Error("an approved write was held again");
  return success({ kind: request.kind, version: result.value.record.version, committed: result.value });
}

/** The request's approved state and its audit entry (inside the caller's transaction). */
function recordApproval(
  core: StoreCore,
  request: ChangeRequestRecord,
  input: DecisionInput,
  at: number,
  version: number | null,
): void {
  decideRequest(core.sql, request.id, {
    state: "approved",
    at,
    by: input.actor,
    reason: input.reason,
    resultVersion: version,
  });
  appendAudit(core.sql, { ...approvedAudit(request, input, version), at });
}

function approvedAudit(request: ChangeRequestRecord, input: DecisionInput, version: number | null) {
  return requestAudit("change_request_approved", request, input.actor, input.reason, {
    changeRequest: request.id,
    author: request.author,
    resultVersion: version,
  });
}

function recordFailure(
  core: StoreCore,
  request: ChangeRequestRecord,
  input: DecisionInput,
  nowMs: number,
  reason: string,
): void {
  commitChange(core, {
    at: nowMs,
    write: () =>
      decideRequest(core.sql, request.id, {
        state: "failed",
        at: nowMs,
        by: input.actor,
        reason,
        resultVersion: null,
      }),
    audit: requestAudit("change_request_failed", request, input.actor, reason.slice(0, 1000), {
      changeRequest: request.id,
      author: request.author,
    }),
    outbox: null,
    log: { namespace: input.namespace, changeRequest: request.id, actor: input.actor },
  });
}

function reread(core: StoreCore, input: DecisionInput, nowMs: number): ChangeRequestRecord {
  const request = readRequest(core.sql, input.namespace, input.id, nowMs);
  if (!request) throw new Error(`change request ${input.id} vanished`);
  return request;
}

/** For GET …/{id}: the request, its held bytes (a publish's document) and the key's live bytes. */
export function requestWithContent(
  core: StoreCore,
  namespace: string,
  id: number,
  nowMs: number,
): StoreResult<{
  request: ChangeRequestRecord;
  body: Uint8Array | null;
  live: Uint8Array | null;
  members: HeldMember[] | null;
}> {
  const request = readRequest(core.sql, namespace, id, nowMs);
  if (!request) return failure("not_found", `Change request ${namespace}/${id} does not exist.`);
  if (request.state !== "pending") return success({ request, body: null, live: null, members: null });
  const liveBody = (key: string) => {
    const live = readLive(core.sql, key);
    return live ? readBody(core.sql, key, live.version) : null;
  };
  if (request.kind === "changes") {
    // Each member beside what its key holds now, so the reviewer sees every key's change.
    const members = changeSetMembers(readRequestBody(core.sql, id)).map((m) => ({
      key: m.key,
      body: "body" in m ? m.body : null,
      live: liveBody(m.key),
    }));
    return success({ request, body: null, live: null, members });
  }
  if (request.kind !== "publish" || request.key === null) {
    return success({ request, body: null, live: null, members: null });
  }
  return success({
    request,
    body: readRequestBody(core.sql, id),
    live: liveBody(request.key),
    members: null,
  });
}

/** A pending change set's member as shown for review: its held bytes (null: a delete) and the key's live ones. */
export interface HeldMember {
  key: string;
  body: Uint8Array | null;
  live: Uint8Array | null;
}
