/**
 * Signed trust roots (core/trust-root.ts, DESIGN §8), kept by the `*` namespace's object (no
 * namespace owns them) in version order. A root is stored only if it extends the chain: version 1
 * must carry a threshold of its own signatures; version N+1 a threshold of version N's root keys
 * AND of its own, never re-listing a kid revoked on the way (TUF §5.3) — so whoever holds the
 * admin token still cannot introduce keys without the current root keys. It must also list the
 * key the origin signs with, or clients following the chain would refuse every new snapshot.
 * Stored roots go to KV (`root/{N}`, then `root/latest`) through the outbox like everything else.
 */
import {
  canonicalJson,
  parseRootDocument,
  snapshotKeysOf,
  verifyPinnedRoot,
  verifyRootSuccessor,
} from "../../core";
import { commitChange } from "./commit";
import { failure, type StoreResult, success } from "./result";
import type { StoreCore } from "./store-core";
import { insertRoot, latestRoot, type RootRow } from "./trust-tables";

export interface RootInput {
  version: number;
  document: unknown;
  actor: string;
  /** The kid of the origin's SIGNING_KEYS[0]. */
  signingKid: string;
}

export interface RootStoredOutcome {
  version: number;
  expires: string;
  created: boolean;
}

function allRevoked(sql: SqlStorage): Set<string> {
  const revoked = new Set<string>();
  for (const row of sql.exec<RootRow>("SELECT * FROM roots ORDER BY version").toArray()) {
    const parsed = parseRootDocument(JSON.parse(row.document));
    if (parsed.ok) for (const kid of parsed.value.signed.revoked) revoked.add(kid);
  }
  return revoked;
}

export async function storeRoot(core: StoreCore, input: RootInput): Promise<StoreResult<RootStoredOutcome>> {
  const parsed = parseRootDocument(input.document);
  if (!parsed.ok) return failure("invalid_request", `Not a fleetconf root document: ${parsed.reason}.`);
  const doc = parsed.value;
  const { version, expires } = doc.signed;
  if (version !== input.version) {
    return failure(
      "invalid_request",
      `The path names root version ${input.version}, the document ${version}.`,
    );
  }
  if (!snapshotKeysOf(doc.signed).keys.some((k) => k.kid === input.signingKid)) {
    return failure(
      "conflict",
      `Root v${version} does not list the origin's signing key ${input.signingKid}: clients following it would refuse every new snapshot. Add that key, or rotate SIGNING_KEYS first.`,
    );
  }
  const text = canonicalJson(doc);
  return core.locked(async () => {
    const { sql } = core;
    const latest = latestRoot(sql);
    if (latest && latest.version === version && latest.document === text) {
      return success({ version, expires, created: false });
    }
    const expected = (latest?.version ?? 0) + 1;
    if (version !== expected) {
      return failure<RootStoredOutcome>(
        "conflict",
        latest
          ? `The newest stored root is v${latest.version}: the next one must be v${expected}.`
          : "No root is stored yet: the first one must be v1.",
      );
    }
    const verdict = latest
      ? await verifyRootSuccessor(
          (parseRootDocument(JSON.parse(latest.document)) as { ok: true; value: typeof doc }).value.signed,
          doc,
          allRevoked(sql),
        )
      : await verifyPinnedRoot(doc);
    if (!verdict.ok) return failure<RootStoredOutcome>("invalid_request", `Root refused: ${verdict.reason}.`);
    const at = Date.now();
    commitChange(core, {
      at,
      write: () => insertRoot(sql, version, text, at, input.actor),
      audit: {
        actor: input.actor,
        action: "root",
        key: null,
        message: null,
        fromVersion: latest?.version ?? null,
        toVersion: version,
        digest: null,
        detail: {
          threshold: doc.signed.threshold,
          keys: doc.signed.keys.length,
          revoked: doc.signed.revoked.join(" "),
          expires,
        },
      },
      outbox: { kind: "root", target: "root" },
      log: { version, actor: input.actor, keys: doc.signed.keys.length },
    });
    return success({ version, expires, created: true });
  });
}
