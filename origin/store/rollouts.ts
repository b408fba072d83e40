/**
 * Staged rollouts of one key (docs/rollouts.md), run inside its namespace's Durable Object. A
 * rollout publishes a candidate version above the live (stable) one; the head in KV names both,
 * and each edge picks per request from the head and its clock. Two promises shape every rule here:
 * cohorts only grow (a client on the candidate stays on it until the rollout ends), and no
 * client's version number ever goes down (an abort publishes the stable content as a new version).
 */
import { describeRing, type Ring, type RolloutHead, ringOf, ringWidens, sameRing, shareAt } from "../../core";
import { commitChange } from "./commit";
import { failure, type StoreResult, success } from "./result";
import {
  endRollout,
  readLatestRollout,
  readRunningRollout,
  rolloutHeadOf,
  updateRolloutRing,
  updateRolloutSpec,
  writeAutoAbort,
} from "./rollout-tables";
import type { StoreCore } from "./store-core";
import { readBody, readKey, readLive, readVersion, writeKey } from "./tables";
import type {
  AuditDetail,
  AutoAbort,
  ChangeMeta,
  HealthAbortInput,
  RolloutChange,
  RolloutRecord,
  RolloutSpec,
  RolloutUpdateInput,
  RolloutView,
  VersionRecord,
  WriteOutcome,
} from "./types";

/** The share of clients on the candidate at `nowMs` (core shareAt on the stored spec). */
export function shareOf(rollout: RolloutRecord, nowMs: number): number {
  const head: RolloutHead = {
    candidate: { version: rollout.candidateVersion, etag: "", publishedAt: 0 },
    mode: rollout.mode,
    percent: rollout.percent,
    start: rollout.start,
    step: rollout.step,
    everySeconds: rollout.everySeconds,
    startedAt: rollout.startedAt,
  };
  return shareAt(head, nowMs);
}

/** The `rollout` member of the key's KV head: its running rollout, or null. */
export function rolloutHeadFor(sql: SqlStorage, key: string): RolloutHead | null {
  const running = readRunningRollout(sql, key);
  if (!running) return null;
  const candidate = readVersion(sql, key, running.candidateVersion);
  if (!candidate) throw new Error(`rollout of ${key} names missing version ${running.candidateVersion}`);
  return rolloutHeadOf(running, candidate);
}

/**
 * Why a write cannot happen now (409): one rollout per key at a time, and nothing else may change
 * the key while it runs, since any new version would cut across the cohorts.
 */
export function rolloutConflict(sql: SqlStorage, key: string, what: string): string | null {
  const running = readRunningRollout(sql, key);
  if (!running) return null;
  return `A rollout of v${running.candidateVersion} over v${running.stableVersion} is running for ${key}: ${what} is refused until it is completed (POST /v1/configs/${key}/-/rollout/complete) or aborted (POST /v1/configs/${key}/-/rollout/abort).`;
}

/** A publish that repeats the running rollout's start exactly (same bytes, same spec): safe to retry. */
export function isRetryOfStart(
  running: RolloutRecord,
  candidate: VersionRecord,
  digest: string,
  spec: RolloutSpec,
) {
  return (
    candidate.digest === digest &&
    running.mode === spec.mode &&
    running.percent === spec.percent &&
    running.start === spec.start &&
    running.step === spec.step &&
    running.everySeconds === spec.everySeconds &&
    JSON.stringify(running.gates ?? null) === JSON.stringify(spec.gates ?? null) &&
    sameRing(running.ring, spec.ring)
  );
}

export function rolloutView(sql: SqlStorage, key: string): StoreResult<RolloutView> {
  const live = readLive(sql, key);
  if (!live) {
    return failure(
      "not_found",
      readKey(sql, key)?.deleted ? `${key} was deleted.` : `${key} was never published.`,
    );
  }
  const rollout = readLatestRollout(sql, key);
  const candidate = rollout ? readVersion(sql, key, rollout.candidateVersion) : null;
  return success({ key, live, rollout, candidate });
}

function noRollout(key: string): string {
  return `No rollout is running for ${key}; start one with PUT /v1/configs/${key} and a Config-Rollout header.`;
}

/** The ring a PATCH asks for: each list given replaces the current one; null drops the ring. */
function patchedRing(current: Ring | null, patch: RolloutUpdateInput["ring"]): Ring | null {
  if (patch === undefined) return current;
  if (patch === null) return null;
  return ringOf(patch.colos ?? current?.colos ?? [], patch.continents ?? current?.continents ?? []);
}

/**
 * PATCH …/rollout: holds the share at `percent` (fixed mode), never below the share now, and/or
 * widens the ring, never narrows it: either way a client on the candidate stays on it.
 */
export async function updateRollout(
  core: StoreCore,
  input: RolloutUpdateInput,
): Promise<StoreResult<RolloutChange>> {
  const { sql } = core;
  const result = await core.locked(async () => {
    const running = readRunningRollout(sql, input.key);
    if (!running) return failure<null>("conflict", noRollout(input.key));
    const at = Date.now();
    const share = shareOf(running, at);
    const { percent } = input;
    if (percent !== undefined && percent < share) {
      return failure<null>(
        "conflict",
        `The rollout already serves v${running.candidateVersion} to ${share}% of clients; lowering it to ${percent}% would move some of them back to v${running.stableVersion}. Abort the rollout instead (POST /v1/configs/${input.key}/-/rollout/abort).`,
      );
    }
    const ring = running.ring ?? null;
    const nextRing = patchedRing(ring, input.ring);
    const widens = ringWidens(ring, nextRing);
    if (!widens.ok) {
      return failure<null>(
        "conflict",
        `The rollout's ring is ${describeRing(ring)}; ${describeRing(nextRing)} would narrow it (${widens.reason}), moving clients there back to v${running.stableVersion}: a ring only grows. List every location it holds plus the new ones, send {"ring": null} for everywhere, or abort the rollout (POST /v1/configs/${input.key}/-/rollout/abort).`,
      );
    }
    const percentChanges =
      percent !== undefined && !(running.mode === "fixed" && running.percent === percent);
    const ringChanges = !sameRing(ring, nextRing);
    if (!percentChanges && !ringChanges) return success(null);
    const detail: AuditDetail = {};
    if (percentChanges) {
      detail.mode = { from: running.mode, to: "fixed" };
      detail.percent = { from: share, to: percent };
    }
    if (ringChanges) detail.ring = { from: describeRing(ring), to: describeRing(nextRing) };
    commitChange(core, {
      at,
      write: () => {
        if (percentChanges) {
          const spec: RolloutSpec = { mode: "fixed", percent, start: percent, step: 0, everySeconds: 0 };
          updateRolloutSpec(sql, running.id, spec, at, input.actor);
        }
        if (ringChanges) updateRolloutRing(sql, running.id, nextRing, at, input.actor);
      },
      audit: {
        actor: input.actor,
        action: "rollout_update",
        key: input.key,
        message: input.message,
        fromVersion: running.stableVersion,
        toVersion: running.candidateVersion,
        digest: null,
        detail,
      },
      outbox: { kind: "key", target: input.key },
    });
    return success(null);
  });
  if (!result.ok) return result;
  return changed(core, input.key);
}

/** POST …/rollout/complete: the candidate becomes the live version for everyone. */
export async function completeRollout(
  core: StoreCore,
  input: ChangeMeta,
): Promise<StoreResult<RolloutChange>> {
  const { sql } = core;
  const result = await core.locked(async () => {
    const running = readRunningRollout(sql, input.key);
    const row = readKey(sql, input.key);
    const candidate = running ? readVersion(sql, input.key, running.candidateVersion) : null;
    if (!running || !row || !candidate) return failure<null>("conflict", noRollout(input.key));
    const at = Date.now();
    const bakedAt = running.startedAt + (running.gates?.bakeSeconds ?? 0) * 1000;
    if (at < bakedAt) {
      return failure<null>(
        "conflict",
        `The rollout of v${running.candidateVersion} bakes until ${new Date(bakedAt).toISOString()} (bake=${running.gates?.bakeSeconds}s): it can complete once it has run healthy that long.`,
      );
    }
    commitChange(core, {
      at,
      write: () => {
        writeKey(sql, { ...row, current_version: candidate.version, updated_at: at });
        endRollout(sql, running.id, {
          at,
          actor: input.actor,
          outcome: "completed",
          resultVersion: candidate.version,
        });
      },
      audit: {
        actor: input.actor,
        action: "rollout_complete",
        key: input.key,
        message: input.message,
        fromVersion: running.stableVersion,
        toVersion: candidate.version,
        digest: candidate.digest,
        detail: { share: shareOf(running, at) },
      },
      outbox: { kind: "key", target: input.key },
    });
    return success(null);
  });
  if (!result.ok) return result;
  return changed(core, input.key);
}

/**
 * POST …/rollout/abort: publishes the stable version's bytes as a new version above the
 * candidate, so clients on the candidate move forward to it, never back to a lower number.
 * No schema check: the stable content was checked when it was published and when the schema
 * was last set (a schema is refused while the live versions break it).
 */
export async function abortRollout(
  core: StoreCore,
  input: ChangeMeta & {
    /** Abort only the rollout of this candidate (an automatic abort must not hit a later rollout). */
    candidate?: number;
    /** Set when the origin aborts by itself: recorded in the rollout and the audit entry. */
    autoAbort?: AutoAbort;
  },
): Promise<StoreResult<WriteOutcome & { view: RolloutView }>> {
  const { sql } = core;
  const result = await core.locked(async () => {
    const running = readRunningRollout(sql, input.key);
    const candidate = running ? readVersion(sql, input.key, running.candidateVersion) : null;
    if (!running || !candidate) return failure<VersionRecord>("conflict", noRollout(input.key));
    if (input.candidate !== undefined && input.candidate !== running.candidateVersion)
      return failure<VersionRecord>("conflict", noRollout(input.key));
    const auto = input.autoAbort;
    const body = readBody(sql, input.key, running.stableVersion);
    const message =
      input.message ?? `rollout of v${running.candidateVersion} aborted: restores v${running.stableVersion}`;
    const record = await core.commitVersion({ ...input, message }, body, {
      action: "rollout_abort",
      live: candidate,
      detail: {
        stable: running.stableVersion,
        candidate: running.candidateVersion,
        share: shareOf(running, Date.now()),
        ...(auto ? autoAbortDetail(auto) : {}),
      },
      alongside: (version, at) => {
        endRollout(sql, running.id, { at, actor: input.actor, outcome: "aborted", resultVersion: version });
        if (auto) writeAutoAbort(sql, running.id, auto);
      },
    });
    return success(record);
  });
  if (!result.ok) return result;
  const distribution = await core.distribute(input.key);
  const view = rolloutView(sql, input.key);
  if (!view.ok) return view;
  return success({ created: true, record: result.value, distribution, view: view.value });
}

async function changed(core: StoreCore, key: string): Promise<StoreResult<RolloutChange>> {
  const distribution = await core.distribute(key);
  const view = rolloutView(core.sql, key);
  return view.ok ? success({ view: view.value, distribution }) : view;
}

/** The actor of an automatic abort in the audit log and the rollout document. */
export const AUTO_ABORT_ACTOR = "fleetconf:health-gate";

/** Aborts the rollout of `candidate` by the origin's own decision, with the figures as the reason. */
export function abortForHealth(
  core: StoreCore,
  input: HealthAbortInput,
): Promise<StoreResult<WriteOutcome & { view: RolloutView }>> {
  const a = input.autoAbort;
  const why =
    a.trigger === "alarm"
      ? `alarm ${a.alarm?.name ?? "external"} fired${a.alarm?.detail ? `: ${a.alarm.detail}` : ""}`
      : `${a.rejected} of ${a.reporting} reporting clients (${a.rejectedPercent}%) rejected it, above max-rejected=${a.maxRejected}%`;
  return abortRollout(core, {
    namespace: input.namespace,
    key: input.key,
    actor: a.trigger === "alarm" ? "fleetconf:alarm" : AUTO_ABORT_ACTOR,
    message: `rollout of v${input.candidate} aborted automatically: ${why}`.slice(0, 1000),
    candidate: input.candidate,
    autoAbort: a,
  });
}

/** An automatic abort's figures as flat audit members (the audit detail holds scalars). */
function autoAbortDetail(a: AutoAbort): AuditDetail {
  return {
    trigger: a.trigger,
    reporting: a.reporting,
    rejected: a.rejected,
    rejectedPercent: a.rejectedPercent,
    maxRejected: a.maxRejected,
    minClients: a.minClients,
    reasons: a.reasons.map((r) => `${r.reason} (${r.clients})`).join("; ") || null,
    alarm: a.alarm?.name ?? null,
  };
}
