/**
 * RFC 6902 JSON Patches between two versions, as the origin's diff route serves them. The diff
 * itself is core/json-diff.ts (rfc6902's, bounded); this module adds a `test` operation
 * (RFC 6902 §4.6) before every `remove` and `replace`, stating the value being changed. Such a
 * patch applies only to the document it was computed from (§5: one failing operation fails the
 * whole patch), and a reader can recover what each change replaced without fetching the old
 * version. Pure: used by the origin, the CLI and tests.
 */
import {
  applyJsonPatch,
  diffJson,
  type JsonChange,
  type JsonPatchOperation,
  type JsonValue,
  jsonEqual,
  parsePointer,
  valueAtTokens,
} from "./json-diff";

export type TestOperation = { op: "test"; path: string; value: JsonValue };
export type PatchOperation = JsonPatchOperation | TestOperation;

/** RFC 6902 §6. */
export const JSON_PATCH_MEDIA_TYPE = "application/json-patch+json";

/** The patch for a list of changes, each `remove`/`replace` preceded by a `test` of its old value. */
export function checkedPatch(changes: readonly JsonChange[]): PatchOperation[] {
  const patch: PatchOperation[] = [];
  for (const change of changes) {
    if (change.op === "add") {
      patch.push({ op: "add", path: change.path, value: change.value });
      continue;
    }
    patch.push({ op: "test", path: change.path, value: change.oldValue });
    patch.push(
      change.op === "remove"
        ? { op: "remove", path: change.path }
        : { op: "replace", path: change.path, value: change.value },
    );
  }
  return patch;
}

/** The checked patch that turns `before` into `after`. */
export function diffPatch(before: JsonValue, after: JsonValue): PatchOperation[] {
  return checkedPatch(diffJson(before, after));
}

/**
 * Applies a patch of add/remove/replace/test operations, returning a new document. Throws a
 * TypeError when a path does not resolve or a `test` does not hold (RFC 6902 §5).
 */
export function applyPatch(document: JsonValue, patch: readonly PatchOperation[]): JsonValue {
  let doc = structuredClone(document);
  let pending: JsonPatchOperation[] = [];
  const flush = () => {
    if (pending.length > 0) doc = applyJsonPatch(doc, pending);
    pending = [];
  };
  for (const operation of patch) {
    if (operation.op !== "test") {
      pending.push(operation);
      continue;
    }
    flush();
    if (!jsonEqual(valueAt(doc, operation.path), operation.value)) {
      throw new TypeError(`test failed at ${JSON.stringify(operation.path)}`);
    }
  }
  flush();
  return doc;
}

/** The value a JSON Pointer (RFC 6901) names in `document`; throws when it names nothing. */
export function valueAt(document: JsonValue, pointer: string): JsonValue {
  return valueAtTokens(document, parsePointer(pointer), pointer);
}

/**
 * The changes a checked patch describes, old values included, or null when the patch has a
 * `remove`/`replace` without the `test` that states its old value (then diff the versions instead).
 */
export function changesOf(patch: readonly PatchOperation[]): JsonChange[] | null {
  const changes: JsonChange[] = [];
  for (let i = 0; i < patch.length; i++) {
    const operation = patch[i] as PatchOperation;
    if (operation.op === "add") {
      changes.push({ op: "add", path: operation.path, value: operation.value });
      continue;
    }
    const next = patch[i + 1];
    if (operation.op !== "test" || next === undefined || next.path !== operation.path) return null;
    if (next.op === "remove") changes.push({ op: "remove", path: next.path, oldValue: operation.value });
    else if (next.op === "replace")
      changes.push({ op: "replace", path: next.path, oldValue: operation.value, value: next.value });
    else return null;
    i++;
  }
  return changes;
}

/** Parses untrusted JSON (a server's answer) into patch operations, or null when it is not one. */
export function parsePatch(value: unknown): PatchOperation[] | null {
  if (!Array.isArray(value)) return null;
  const patch: PatchOperation[] = [];
  for (const item of value) {
    if (typeof item !== "object" || item === null) return null;
    const { op, path } = item as { op?: unknown; path?: unknown };
    if (typeof path !== "string" || (path !== "" && !path.startsWith("/"))) return null;
    const hasValue = Object.hasOwn(item, "value");
    const operationValue = (item as { value?: JsonValue }).value as JsonValue;
    if (op === "remove") patch.push({ op, path });
    else if ((op === "add" || op === "replace" || op === "test") && hasValue)
      patch.push({ op, path, value: operationValue });
    else return null;
  }
  return patch;
}
