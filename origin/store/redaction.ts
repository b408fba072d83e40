/**
 * Redaction (DESIGN §8): a version published by mistake (a secret) loses its bytes everywhere —
 * the origin's SQLite, the KV snapshot and every edge cache — while its row (ETag, digest, author)
 * and the audit trail stay, so history still says what happened. The edge answers `410 Gone` for
 * `?version=N` of it from the head's `redacted` list, even before the purge reaches a tier.
 *
 * The version served to everyone cannot be redacted (there would be nothing to serve): publish
 * the fix (or delete the key) first. Same for a running rollout's two versions.
 */
import { commitChange } from "./commit";
import { failure, type StoreResult, success } from "./result";
import { readRunningRollout } from "./rollout-tables";
import type { StoreCore } from "./store-core";
import { readKey, readVersion } from "./tables";
import { redactVersion } from "./trust-tables";
import type { RedactInput, RedactOutcome } from "./types";

export async function redactKeyVersion(
  core: StoreCore,
  input: RedactInput,
): Promise<StoreResult<RedactOutcome>> {
  const { sql } = core;
  type Done = { redacted: boolean; at: number };
  const result = await core.locked(async () => {
    const row = readKey(sql, input.key);
    const record = readVersion(sql, input.key, input.version);
    if (!row || !record)
      return failure<Done>("not_found", `Version ${input.version} of ${input.key} does not exist.`);
    if (record.redactedAt !== undefined) return success<Done>({ redacted: false, at: record.redactedAt });
    if (!row.deleted && row.current_version === input.version) {
      return failure<Done>(
        "conflict",
        `Version ${input.version} is the live version of ${input.key}: publish the corrected config (or delete the key) first, then redact it.`,
      );
    }
    const running = readRunningRollout(sql, input.key);
    if (running && running.candidateVersion === input.version) {
      return failure<Done>(
        "conflict",
        `Version ${input.version} is the candidate of a running rollout: abort it first (POST /v1/configs/${input.key}/-/rollout/abort).`,
      );
    }
    const at = Date.now();
    commitChange(core, {
      at,
      write: () => redactVersion(sql, input.key, input.version, at),
      audit: {
        actor: input.actor,
        action: "redact",
        key: input.key,
        message: input.message,
        fromVersion: input.version,
        toVersion: null,
        digest: record.digest,
        detail: { size: record.size },
      },
      outbox: { kind: "redaction", target: input.key },
      log: { namespace: input.namespace, key: input.key, version: input.version, actor: input.actor },
    });
    return success<Done>({ redacted: true, at });
  });
  if (!result.ok) return result;
  const distribution = await core.distribute(input.key);
  return success({
    key: input.key,
    version: input.version,
    redacted: result.value.redacted,
    redactedAt: result.value.at,
    distribution,
  });
}

export function redactedDetail(key: string, version: number): string {
  return `Version ${version} of ${key} was redacted: its bytes are gone.`;
}
