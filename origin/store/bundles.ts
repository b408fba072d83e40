/**
 * Defining bundles (DESIGN §8, docs/bundles.md): lock → check → commitChange, then one drain.
 * The manifest rules live in bundle-tables.ts, which commitChange also uses.
 */
import { bundleRef, sameMembers } from "../../core";
import {
  type BundleInput,
  type BundleOutcome,
  type BundleRow,
  type BundleView,
  bumpIfChanged,
  liveMembers,
  membersOf,
  readBundle,
  readBundleVersion,
  viewOf,
} from "./bundle-tables";
import { commitChange } from "./commit";
import { failure, type StoreResult, success } from "./result";
import type { StoreCore } from "./store-core";
import { readLive, writeMeta } from "./tables";
import type { Distribution } from "./types";

/**
 * Defines (or redefines) a bundle. Every key must be a live key of the namespace (422 naming the
 * first one that is not); the manifest gets a new version only when the member versions change.
 */
export type { BundleInput } from "./bundle-tables";

export async function putBundle(
  core: StoreCore,
  input: BundleInput,
): Promise<StoreResult<BundleOutcome & { distribution: Distribution }>> {
  const { sql } = core;
  const result = await core.locked(async () => {
    const missing = input.keys.findIndex((key) => readLive(sql, key) === null);
    if (missing >= 0) {
      return failure<BundleOutcome>(
        "unknown_member",
        `${input.keys[missing]} (keys/${missing}) has no live version: publish it before naming it in a bundle.`,
      );
    }
    const at = Date.now();
    const existing = readBundle(sql, input.name);
    const row: BundleRow = existing ?? {
      name: input.name,
      keys: "[]",
      current_version: 0,
      next_version: 1,
      updated_at: at,
      updated_by: input.actor,
    };
    let changed = false;
    const sameDefinition = existing !== null && existing.keys === JSON.stringify(input.keys);
    if (
      sameDefinition &&
      sameMembers(
        membersOf(readBundleVersion(sql, row.name, row.current_version)),
        liveMembers(sql, input.keys),
      )
    ) {
      return success<BundleOutcome>({ view: viewOf(sql, input.namespace, row), changed: false });
    }
    commitChange(core, {
      at,
      write: () => {
        writeMeta(sql, "namespace", input.namespace);
        changed = bumpIfChanged(sql, input.namespace, row, input.keys, at, input.actor);
      },
      audit: {
        actor: input.actor,
        action: "bundle_set",
        key: null,
        message: null,
        fromVersion: null,
        toVersion: null,
        digest: null,
        detail: { bundle: input.name, keys: input.keys.join(",") },
      },
      outbox: null,
      log: { namespace: input.namespace, bundle: input.name, keys: input.keys.length, actor: input.actor },
    });
    const after = readBundle(sql, input.name);
    if (!after) throw new Error(`bundle ${input.name} was not written`);
    return success<BundleOutcome>({ view: viewOf(sql, input.namespace, after), changed });
  });
  if (!result.ok) return result;
  const distribution = await core.distribute(bundleRef(input.namespace, input.name).key);
  return success({ ...result.value, distribution });
}

export function getBundle(sql: SqlStorage, namespace: string, name: string): StoreResult<BundleView> {
  const row = readBundle(sql, name);
  if (!row) return failure("not_found", `No bundle ${namespace}/${name} is defined.`);
  return success(viewOf(sql, namespace, row));
}
