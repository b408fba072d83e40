/**
 * What a publish does, decided under the namespace's write lock from the key's stored state, in
 * the order the API documents (docs/api.md): preconditions (412), a running rollout (409, except
 * an exact retry of its start), identical bytes (200, nothing new), a rollout without a live
 * version (409), the key's JSON Schema (422), and only then a new version or rollout candidate.
 */
import { checkFlagdDocument } from "../../core/flagd-schema";
import { describeRing } from "../../core/rings";
import { schemaViolation } from "./key-schemas";
import { preconditionFailure } from "./preconditions";
import { failure, type StoreResult, success } from "./result";
import { readRunningRollout } from "./rollout-tables";
import { isRetryOfStart, rolloutConflict } from "./rollouts";
import type { CommitOptions } from "./store-core";
import { readLive, readVersion } from "./tables";
import type { AuditDetail, PublishInput, RolloutSpec, VersionRecord } from "./types";

/** A write's outcome inside the lock, before distribution. */
export type Committed = { created: boolean; record: VersionRecord };

const utf8 = new TextDecoder();

export type PublishPlan =
  | { kind: "answer"; result: StoreResult<Committed> }
  | { kind: "commit"; options: CommitOptions };

export function planPublish(sql: SqlStorage, input: PublishInput, digest: string): PublishPlan {
  const answer = (result: StoreResult<Committed>): PublishPlan => ({ kind: "answer", result });
  const live = readLive(sql, input.key);
  const failed = preconditionFailure(live, input);
  if (failed) return answer(failure("precondition_failed", failed));
  const spec = input.rollout ?? null;
  const running = readRunningRollout(sql, input.key);
  if (running) {
    // Retrying the request that started this rollout is safe: it answers with its candidate.
    const candidate = readVersion(sql, input.key, running.candidateVersion);
    if (spec && candidate && isRetryOfStart(running, candidate, digest, spec)) {
      return answer(success({ created: false, record: candidate }));
    }
    return answer(
      failure("conflict", rolloutConflict(sql, input.key, "a publish") ?? "A rollout is running."),
    );
  }
  // Same bytes as the live version: idempotent, no new version and no audit entry (DESIGN §2).
  if (live && live.digest === digest && live.size === input.body.length) {
    return answer(success({ created: false, record: live }));
  }
  if (spec && !live) {
    return answer(
      failure(
        "conflict",
        `${input.key} has no live version for the other clients to keep: publish it without Config-Rollout first.`,
      ),
    );
  }
  const invalid = schemaViolation<Committed>(sql, input.key, input.body, "The document");
  if (invalid) return answer(invalid);
  const flagd = checkFlagdDocument(input.key, utf8.decode(input.body));
  if (!flagd.ok) return answer(failure("schema_violation", flagd.detail, flagd.errors));
  return {
    kind: "commit",
    options: spec
      ? { action: "rollout_start", live, detail: rolloutStartDetail(spec), startRollout: spec }
      : { action: "publish", live, detail: null },
  };
}

/** The audit detail of a rollout start: its spec, ring and health gates, as flat members. */
function rolloutStartDetail(spec: RolloutSpec): AuditDetail {
  const { gates, ring, ...plain } = spec;
  const share = ring ? { ...plain, ring: describeRing(ring) } : plain;
  if (!gates) return share;
  return {
    ...share,
    maxRejected: gates.maxRejected,
    minClients: gates.minClients,
    bakeSeconds: gates.bakeSeconds,
  };
}
