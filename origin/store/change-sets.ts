/**
 * Change sets (DESIGN §8, `POST /v1/changes`): several keys of one namespace published or deleted
 * all or nothing. Under the write lock every member is checked first — a running rollout (409),
 * a delete of a key that is not live (404) or that a bundle names (409), the key's JSON Schema
 * (422) — and the first refusal answers for the whole set with a pointer to the member
 * (`/changes/{i}/…`), nothing written. Otherwise every new version is signed, then all of them,
 * the deletes, one audit entry and one outbox row per key commit in ONE SQL transaction
 * (commitChange), which also bumps every bundle naming a member once; one drain distributes them.
 */
import { buildSnapshot, contentDigestOf, sha256 } from "../../core";
import { bundlesNaming } from "./bundle-tables";
import { commitChange } from "./commit";
import { schemaViolation } from "./key-schemas";
import { notFound, type WriteGate } from "./key-writes";
import { failure, type ResultError, type StoreResult, success } from "./result";
import { rolloutConflict } from "./rollouts";
import type { StoreCore } from "./store-core";
import { insertVersion, readKey, readLive, writeKey } from "./tables";
import { type Distribution, type HeldChange, isHeld, type VersionRecord } from "./types";

export type ChangeSetMember = { key: string; body: Uint8Array } | { key: string; delete: true };

export interface ChangeSetInput {
  namespace: string;
  actor: string;
  message: string | null;
  changes: ChangeSetMember[];
}

/** What happened to one member: a new version, unchanged (same bytes as live), or deleted. */
export type MemberOutcome =
  | { key: string; outcome: "published"; record: VersionRecord }
  | { key: string; outcome: "unchanged"; record: VersionRecord }
  | { key: string; outcome: "deleted"; version: number };

export interface ChangeSetOutcome {
  /** False when every member was already as asked: nothing committed, no audit entry. */
  applied: boolean;
  changes: MemberOutcome[];
  distribution: Distribution;
}

type Planned =
  | { index: number; key: string; kind: "publish"; body: Uint8Array; live: VersionRecord | null }
  | { index: number; key: string; kind: "unchanged"; live: VersionRecord }
  | { index: number; key: string; kind: "delete"; live: VersionRecord };

function refused<T>(
  code: Parameters<typeof failure>[0],
  index: number,
  member: string,
  detail: string,
): StoreResult<T> {
  const errors: ResultError[] = [{ pointer: `/changes/${index}/${member}`, detail }];
  return failure<T>(code, `Change ${index}: ${detail} Nothing was applied.`, errors);
}

/** Checks every member under the lock; the first refusal is the answer. */
async function plan(core: StoreCore, input: ChangeSetInput): Promise<StoreResult<Planned[]>> {
  const { sql } = core;
  const planned: Planned[] = [];
  for (const [index, change] of input.changes.entries()) {
    const { key } = change;
    const live = readLive(sql, key);
    const conflict = rolloutConflict(sql, key, "a change set");
    if (conflict) return refused("conflict", index, "key", conflict);
    if ("delete" in change) {
      if (!live) return refused("not_found", index, "key", notFound(key, readKey(sql, key)));
      const naming = bundlesNaming(sql, key);
      if (naming.length > 0) {
        return refused(
          "conflict",
          index,
          "key",
          `${key} is a member of bundle ${naming.join(", ")}: redefine the bundle without it first.`,
        );
      }
      planned.push({ index, key, kind: "delete", live });
      continue;
    }
    const digest = contentDigestOf(await sha256(change.body));
    if (live && live.digest === digest && live.size === change.body.length) {
      planned.push({ index, key, kind: "unchanged", live });
      continue;
    }
    const invalid = schemaViolation<Planned[]>(sql, key, change.body, "The document");
    if (invalid && !invalid.ok) {
      const errors: ResultError[] = (invalid.errors ?? []).map((e) =>
        "keyword" in e ? { ...e, pointer: `/changes/${index}/content${e.pointer}` } : e,
      );
      return failure("schema_violation", `Change ${index}: ${invalid.detail} Nothing was applied.`, [
        { pointer: `/changes/${index}/content`, detail: invalid.detail },
        ...errors,
      ]);
    }
    planned.push({ index, key, kind: "publish", body: change.body, live });
  }
  return success(planned);
}

export async function applyChangeSet(
  core: StoreCore,
  input: ChangeSetInput,
  gate: WriteGate = {},
): Promise<StoreResult<ChangeSetOutcome | HeldChange>> {
  const result = await core.locked(() => applyChangeSetLocked(core, input, gate));
  if (!result.ok) return result;
  if (isHeld(result.value)) return success(result.value);
  return success(await distributeChangeSet(core, result.value));
}

/** Drains a committed change set and says whether every member reached KV and the edge. */
export async function distributeChangeSet(
  core: StoreCore,
  committed: { applied: boolean; changes: MemberOutcome[] },
): Promise<ChangeSetOutcome> {
  const first = committed.changes[0];
  if (!committed.applied || !first) return { ...committed, distribution: "complete" };
  const distribution = await pendingAny(core, committed.changes, await core.distribute(first.key));
  return { ...committed, distribution };
}

/** Checks and commits a change set; the caller holds the write lock (approving a request does). */
export async function applyChangeSetLocked(
  core: StoreCore,
  input: ChangeSetInput,
  gate: WriteGate,
): Promise<StoreResult<{ applied: boolean; changes: MemberOutcome[] } | HeldChange>> {
  const { sql } = core;
  const checked = await plan(core, input);
  if (!checked.ok) return checked;
  const members = checked.value;
  if (members.every((m) => m.kind === "unchanged")) {
    return success({
      applied: false,
      changes: members.map((m) => ({ key: m.key, outcome: "unchanged" as const, record: m.live })),
    });
  }
  const held = gate.hold?.(null);
  if (held) return success({ held });
  const signing = await core.signingKey();
  const at = Date.now();
  const outcomes: MemberOutcome[] = [];
  const writes: (() => void)[] = [];
  for (const member of members) {
    if (member.kind === "unchanged") {
      outcomes.push({ key: member.key, outcome: "unchanged", record: member.live });
      continue;
    }
    const row = readKey(sql, member.key);
    if (member.kind === "delete") {
      if (!row) throw new Error(`${member.key} is live but has no key row`);
      outcomes.push({ key: member.key, outcome: "deleted", version: member.live.version });
      writes.push(() => writeKey(sql, { ...row, deleted: 1, updated_at: at }));
      continue;
    }
    const version = row?.next_version ?? 1;
    const snapshot = await buildSnapshot({
      key: member.key,
      version,
      body: member.body,
      publishedAt: at,
      signingKey: signing.key,
      kid: signing.kid,
    });
    const record: VersionRecord = { ...snapshot.meta, author: input.actor, message: input.message };
    outcomes.push({ key: member.key, outcome: "published", record });
    const body = member.body;
    writes.push(() => {
      insertVersion(sql, record, body);
      writeKey(sql, {
        key: member.key,
        current_version: version,
        deleted: 0,
        next_version: version + 1,
        updated_at: at,
        // A deleted key published again starts a new delete generation (DESIGN §8), as commit.ts does.
        floor: row === null ? 1 : row.deleted ? version : row.floor,
      });
    });
  }
  const changed = outcomes.filter((o) => o.outcome !== "unchanged");
  commitChange(core, {
    at,
    write: () => {
      for (const write of writes) write();
      // A change set makes no single version: an approved request records none.
      gate.approval?.write(null, at);
    },
    audit: {
      actor: input.actor,
      action: "change_set",
      key: null,
      message: input.message,
      fromVersion: null,
      toVersion: null,
      digest: null,
      detail: {
        changes: changed.length,
        keys: changed
          .map((o) => (o.outcome === "deleted" ? `-${o.key}` : `${o.key}@${o.record.version}`))
          .join(","),
        ...gate.approval?.detail,
      },
    },
    outbox: changed.map((o) => ({ kind: "key" as const, target: o.key })),
    log: { namespace: input.namespace, changes: changed.length, actor: input.actor },
  });
  return success({ applied: true, changes: outcomes });
}

/** Pending if any member's distribution is still pending after the drain. */
async function pendingAny(
  core: StoreCore,
  changes: MemberOutcome[],
  first: Distribution,
): Promise<Distribution> {
  if (first === "pending") return "pending";
  for (const change of changes.slice(1)) {
    if ((await core.distribute(change.key)) === "pending") return "pending";
  }
  return "complete";
}
