/**
 * Structural diff of two JSON documents, as a list of changes addressed by JSON Pointer
 * (RFC 6901), and its rendering as a JSON Patch (RFC 6902) that turns the first document into the
 * second when applied in order. Pure: the CLI renders it for people, the origin may serve it.
 *
 * Arrays are aligned by a longest common subsequence of deep-equal elements, so inserting one
 * element near the front yields one `add`, not a `replace` of every element after it. The LCS
 * table is quadratic, so arrays whose product of lengths exceeds `LCS_CELL_LIMIT` fall back to
 * index-by-index comparison (still a correct patch, just a longer one).
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [member: string]: JsonValue };

export type JsonChange =
  | { op: "add"; path: string; value: JsonValue }
  | { op: "remove"; path: string; oldValue: JsonValue }
  | { op: "replace"; path: string; oldValue: JsonValue; value: JsonValue };

export type JsonPatchOperation =
  | { op: "add"; path: string; value: JsonValue }
  | { op: "remove"; path: string }
  | { op: "replace"; path: string; value: JsonValue };

export const LCS_CELL_LIMIT = 4_000_000;

/** RFC 6901 §3: `~` is written `~0` and `/` is written `~1` inside a reference token. */
export function escapePointerToken(token: string): string {
  return token.replaceAll("~", "~0").replaceAll("/", "~1");
}

export function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new TypeError(`JSON Pointer must start with '/': ${pointer}`);
  return pointer
    .slice(1)
    .split("/")
    .map((token) => token.replaceAll("~1", "/").replaceAll("~0", "~"));
}

function isObject(value: JsonValue): value is { [member: string]: JsonValue } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function jsonEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => jsonEqual(item, b[i] as JsonValue));
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k] as JsonValue, b[k] as JsonValue));
  }
  return false;
}

/** The changes that turn `before` into `after`, in an order that is valid to apply sequentially. */
export function diffJson(before: JsonValue, after: JsonValue): JsonChange[] {
  const changes: JsonChange[] = [];
  diffInto(before, after, "", changes);
  return changes;
}

function diffInto(a: JsonValue, b: JsonValue, path: string, out: JsonChange[]): void {
  if (jsonEqual(a, b)) return;
  if (isObject(a) && isObject(b)) {
    for (const key of Object.keys(a)) {
      const child = `${path}/${escapePointerToken(key)}`;
      if (!Object.hasOwn(b, key)) out.push({ op: "remove", path: child, oldValue: a[key] as JsonValue });
      else diffInto(a[key] as JsonValue, b[key] as JsonValue, child, out);
    }
    for (const key of Object.keys(b)) {
      if (!Object.hasOwn(a, key)) {
        out.push({ op: "add", path: `${path}/${escapePointerToken(key)}`, value: b[key] as JsonValue });
      }
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    diffArrays(a, b, path, out);
    return;
  }
  out.push({ op: "replace", path, oldValue: a, value: b });
}

type Step = { kind: "keep" } | { kind: "delete"; value: JsonValue } | { kind: "insert"; value: JsonValue };

function diffArrays(a: JsonValue[], b: JsonValue[], path: string, out: JsonChange[]): void {
  const steps = a.length * b.length > LCS_CELL_LIMIT ? indexSteps(a, b) : lcsSteps(a, b);
  // `index` is the position in the array as it looks after the changes emitted so far.
  let index = 0;
  for (let s = 0; s < steps.length; s++) {
    const step = steps[s] as Step;
    const next = steps[s + 1];
    if (step.kind === "keep") {
      index++;
    } else if (step.kind === "delete" && next?.kind === "insert") {
      // A deletion followed by an insertion at the same place is a change of that element.
      diffInto(step.value, next.value, `${path}/${index}`, out);
      index++;
      s++;
    } else if (step.kind === "delete") {
      out.push({ op: "remove", path: `${path}/${index}`, oldValue: step.value });
    } else {
      out.push({ op: "add", path: `${path}/${index}`, value: step.value });
      index++;
    }
  }
}

function indexSteps(a: JsonValue[], b: JsonValue[]): Step[] {
  const steps: Step[] = [];
  const common = Math.min(a.length, b.length);
  for (let i = 0; i < common; i++) {
    if (jsonEqual(a[i] as JsonValue, b[i] as JsonValue)) steps.push({ kind: "keep" });
    else
      steps.push({ kind: "delete", value: a[i] as JsonValue }, { kind: "insert", value: b[i] as JsonValue });
  }
  for (let i = common; i < a.length; i++) steps.push({ kind: "delete", value: a[i] as JsonValue });
  for (let i = common; i < b.length; i++) steps.push({ kind: "insert", value: b[i] as JsonValue });
  return steps;
}

function lcsSteps(a: JsonValue[], b: JsonValue[]): Step[] {
  const n = a.length;
  const m = b.length;
  // lengths[i * (m + 1) + j] = LCS length of a[i..] and b[j..].
  const lengths = new Uint32Array((n + 1) * (m + 1));
  const at = (i: number, j: number) => lengths[i * (m + 1) + j] as number;
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lengths[i * (m + 1) + j] = jsonEqual(a[i] as JsonValue, b[j] as JsonValue)
        ? at(i + 1, j + 1) + 1
        : Math.max(at(i + 1, j), at(i, j + 1));
    }
  }
  const steps: Step[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (jsonEqual(a[i] as JsonValue, b[j] as JsonValue)) {
      steps.push({ kind: "keep" });
      i++;
      j++;
    } else if (at(i + 1, j) >= at(i, j + 1)) {
      steps.push({ kind: "delete", value: a[i++] as JsonValue });
    } else {
      steps.push({ kind: "insert", value: b[j++] as JsonValue });
    }
  }
  while (i < n) steps.push({ kind: "delete", value: a[i++] as JsonValue });
  while (j < m) steps.push({ kind: "insert", value: b[j++] as JsonValue });
  return steps;
}

/** The RFC 6902 patch for a list of changes (drops the old values the patch format has no room for). */
export function toJsonPatch(changes: readonly JsonChange[]): JsonPatchOperation[] {
  return changes.map((change) =>
    change.op === "remove"
      ? { op: "remove", path: change.path }
      : { op: change.op, path: change.path, value: change.value },
  );
}

/**
 * Applies an RFC 6902 patch limited to add/remove/replace, returning a new document. Throws a
 * TypeError when a path does not resolve (RFC 6902 §5: the whole patch then fails).
 */
export function applyJsonPatch(document: JsonValue, patch: readonly JsonPatchOperation[]): JsonValue {
  let doc = structuredClone(document);
  for (const operation of patch) {
    const tokens = parsePointer(operation.path);
    if (tokens.length === 0) {
      if (operation.op === "remove") throw new TypeError("cannot remove the whole document");
      doc = structuredClone(operation.value);
      continue;
    }
    const last = tokens[tokens.length - 1] as string;
    let parent: JsonValue = doc;
    for (const token of tokens.slice(0, -1)) parent = childOf(parent, token, operation.path);
    if (Array.isArray(parent)) {
      const index = last === "-" && operation.op === "add" ? parent.length : arrayIndex(last, operation.path);
      const limit = operation.op === "add" ? parent.length : parent.length - 1;
      if (index > limit) throw new TypeError(`index out of range: ${operation.path}`);
      if (operation.op === "add") parent.splice(index, 0, structuredClone(operation.value));
      else if (operation.op === "remove") parent.splice(index, 1);
      else parent[index] = structuredClone(operation.value);
    } else if (isObject(parent)) {
      if (operation.op !== "add" && !Object.hasOwn(parent, last)) {
        throw new TypeError(`no member at ${operation.path}`);
      }
      if (operation.op === "remove") delete parent[last];
      // defineProperty, not assignment: a member named "__proto__" must stay a plain member.
      else
        Object.defineProperty(parent, last, {
          value: structuredClone(operation.value),
          writable: true,
          enumerable: true,
          configurable: true,
        });
    } else {
      throw new TypeError(`parent is not a container: ${operation.path}`);
    }
  }
  return doc;
}

function arrayIndex(token: string, path: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new TypeError(`bad array index in ${path}`);
  return Number(token);
}

function childOf(parent: JsonValue, token: string, path: string): JsonValue {
  if (Array.isArray(parent)) {
    const index = arrayIndex(token, path);
    if (index >= parent.length) throw new TypeError(`index out of range: ${path}`);
    return parent[index] as JsonValue;
  }
  if (isObject(parent) && Object.hasOwn(parent, token)) return parent[token] as JsonValue;
  throw new TypeError(`path does not resolve: ${path}`);
}
