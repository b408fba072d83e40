/** The two stored versions a diff compares, named by number, `current` or `candidate`. */

import { redactedDetail } from "./redaction";
import { failure, type StoreResult, success } from "./result";
import { readRunningRollout } from "./rollout-tables";
import { readBody, readKey, readLive, readVersion } from "./tables";
import type { StoredVersion } from "./types";

/** A version named in a diff: a number, the live version, or the running rollout's candidate. */
export type VersionRef = number | "current" | "candidate";

export function diffSides(
  sql: SqlStorage,
  key: string,
  from: VersionRef,
  to: VersionRef,
): StoreResult<{ from: StoredVersion; to: StoredVersion }> {
  const sides: StoredVersion[] = [];
  for (const ref of [from, to]) {
    const version = resolve(sql, key, ref);
    if (!version.ok) return version;
    const record = readVersion(sql, key, version.value);
    if (!record) return failure("not_found", `Version ${version.value} of ${key} does not exist.`);
    if (record.redactedAt !== undefined) return failure("gone", redactedDetail(key, version.value));
    const live = readLive(sql, key);
    sides.push({
      record,
      body: readBody(sql, key, record.version),
      current: live?.version === record.version,
    });
  }
  const [a, b] = sides as [StoredVersion, StoredVersion];
  return success({ from: a, to: b });
}

function resolve(sql: SqlStorage, key: string, ref: VersionRef): StoreResult<number> {
  if (typeof ref === "number") return success(ref);
  if (ref === "current") {
    const live = readLive(sql, key);
    if (live) return success(live.version);
    const row = readKey(sql, key);
    return failure("not_found", row?.deleted ? `${key} was deleted.` : `${key} was never published.`);
  }
  const running = readRunningRollout(sql, key);
  return running
    ? success(running.candidateVersion)
    : failure("not_found", `No rollout is running for ${key}.`);
}
