/**
 * Structural diff of two JSON documents, as a list of changes addressed by JSON Pointer
 * (RFC 6901), and its rendering as a JSON Patch (RFC 6902) that turns the first document into the
 * second when applied in order. Pure: the CLI renders it for people, the origin serves it.
 *
 * The diff is the `rfc6902` library's (`createPatch`): objects member by member, arrays aligned by
 * its edit distance, so inserting one element near the front yields one `add`, not a `replace` of
 * every element after it. Its array alignment is quadratic in time and memory (a memo of every
 * prefix pair, docs/decisions.md has the figures), so arrays go through `alignedArrays` first: the
 * common head and tail are cut off in linear time (one edit in a 2,000-element array costs
 * nothing), and when what is left still exceeds `LCS_CELL_LIMIT` cells, it is compared index by
 * index (a correct patch, just a longer one) instead of spending seconds of CPU aligning it.
 *
 * Applying stays here (`applyJsonPatch`), not `rfc6902.applyPatch`: the library's pointer
 * evaluation skips the tokens `__proto__`, `constructor` and `prototype` (its guard against
 * prototype pollution), so it cannot apply its own diff of a document with such a member.
 */
import { createPatch, type Operation, type Pointer } from "rfc6902";
import { diffAny, diffArrays } from "rfc6902/diff";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [member: string]: JsonValue };

export type JsonChange =
  | { op: "add"; path: string; value: JsonValue }
  | { op: "remove"; path: string; oldValue: JsonValue }
  | { op: "replace"; path: string; oldValue: JsonValue; value: JsonValue };

export type JsonPatchOperation =
  | { op: "add"; path: string; value: JsonValue }
  | { op: "remove"; path: string }
  | { op: "replace"; path: string; value: JsonValue };

/**
 * Above this many cells (remaining length × remaining length) arrays are compared index by index
 * instead of aligned: rfc6902's alignment took ~30–70 ms at 100 × 100 and 1.3–1.9 s at 250 × 250
 * (docs/decisions.md), so 10,000 cells keeps any diff well under a second of CPU.
 */
export const LCS_CELL_LIMIT = 10_000;

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
  const operations = createPatch(before, after, hook);
  // Replay the patch to record what each remove/replace takes away, and to give appends
  // (rfc6902 writes `/-`) their index, so every change names the element it makes.
  let doc = structuredClone(before);
  const changes: JsonChange[] = [];
  for (const operation of operations) {
    if (operation.op !== "add" && operation.op !== "remove" && operation.op !== "replace") {
      throw new TypeError(`unexpected ${operation.op} in a diff`);
    }
    const change = changeOf(doc, operation);
    doc = applyOperation(doc, change);
    changes.push(change);
  }
  return changes;
}

function changeOf(doc: JsonValue, operation: Operation): JsonChange {
  const value = (operation as { value?: JsonValue }).value ?? null;
  if (operation.op === "add") {
    const tokens = parsePointer(operation.path);
    if (tokens.at(-1) !== "-") return { op: "add", path: operation.path, value };
    const parent = valueAtTokens(doc, tokens.slice(0, -1), operation.path);
    // `-` is an append only in an array; in an object it is a member's name.
    if (!Array.isArray(parent)) return { op: "add", path: operation.path, value };
    return { op: "add", path: `${operation.path.slice(0, -1)}${parent.length}`, value };
  }
  const oldValue = valueAtTokens(doc, parsePointer(operation.path), operation.path);
  return operation.op === "remove"
    ? { op: "remove", path: operation.path, oldValue }
    : { op: "replace", path: operation.path, oldValue, value };
}

/**
 * rfc6902's diff hook for arrays: strips the common head and tail, then lets the library align
 * the rest, or replaces the array whole when the rest is too big to align (see the module header).
 * Other values: undefined, the library's own diff.
 */
function alignedArrays(input: unknown, output: unknown, ptr: Pointer): Operation[] | undefined {
  if (!Array.isArray(input) || !Array.isArray(output)) return undefined;
  const a = input as JsonValue[];
  const b = output as JsonValue[];
  let head = 0;
  while (head < a.length && head < b.length && jsonEqual(a[head] as JsonValue, b[head] as JsonValue)) head++;
  let endA = a.length;
  let endB = b.length;
  while (endA > head && endB > head && jsonEqual(a[endA - 1] as JsonValue, b[endB - 1] as JsonValue)) {
    endA--;
    endB--;
  }
  if ((endA - head) * (endB - head) > LCS_CELL_LIMIT) return byIndex(a, b, head, endA, endB, ptr);
  if (head === 0 && endA === a.length && endB === b.length) return diffArrays(a, b, ptr, hook);
  // The library numbers the middle from 0 and appends with `-`; shift its indices by the head.
  const middle = diffArrays(a.slice(head, endA), b.slice(head, endB), ptr, hook);
  const prefix = `${ptr.toString()}/`;
  let length = endA - head;
  return middle.map((operation) => {
    const [token = "", ...rest] = operation.path.slice(prefix.length).split("/");
    const index = token === "-" ? length : Number(token);
    if (rest.length === 0 && operation.op === "add") length++;
    if (rest.length === 0 && operation.op === "remove") length--;
    const path = [`${prefix}${head + index}`, ...rest].join("/");
    return { ...operation, path };
  });
}

/**
 * The middle of two arrays too long to align, compared index by index (linear): each element's
 * own changes, then the surplus removed from the end backwards or the new elements appended.
 */
function byIndex(a: JsonValue[], b: JsonValue[], head: number, endA: number, endB: number, ptr: Pointer) {
  const operations: Operation[] = [];
  const common = Math.min(endA, endB);
  for (let i = head; i < common; i++) operations.push(...hook(a[i], b[i], ptr.add(String(i))));
  for (let i = endA - 1; i >= common; i--)
    operations.push({ op: "remove", path: ptr.add(String(i)).toString() });
  for (let i = common; i < endB; i++)
    operations.push({ op: "add", path: ptr.add(String(i)).toString(), value: b[i] });
  return operations;
}

/** The diff the library calls back for elements and nested values: ours for arrays, else its own. */
function hook(input: unknown, output: unknown, ptr: Pointer): Operation[] {
  return (
    alignedArrays(input, output, ptr) ??
    membersInOrder(input, output, ptr) ??
    diffAny(input, output, ptr, hook)
  );
}

/**
 * Two objects' changes in document order (the first document's members, then the added ones),
 * the order `fleetconf diff` prints them in; rfc6902 lists removals, then additions, then changes.
 * Each operation names a different member, so any order applies the same.
 */
function membersInOrder(input: unknown, output: unknown, ptr: Pointer): Operation[] | undefined {
  const isMap = (v: unknown): v is Record<string, JsonValue> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isMap(input) || !isMap(output)) return undefined;
  const operations: Operation[] = [];
  for (const key of Object.keys(input)) {
    if (!Object.hasOwn(output, key)) operations.push({ op: "remove", path: ptr.add(key).toString() });
    else operations.push(...hook(input[key], output[key], ptr.add(key)));
  }
  for (const key of Object.keys(output)) {
    if (!Object.hasOwn(input, key))
      operations.push({ op: "add", path: ptr.add(key).toString(), value: output[key] });
  }
  return operations;
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
  for (const operation of patch) doc = applyOperation(doc, operation);
  return doc;
}

/** One operation, in place where it can be (the document was cloned by the caller). */
function applyOperation(doc: JsonValue, operation: JsonPatchOperation): JsonValue {
  const tokens = parsePointer(operation.path);
  if (tokens.length === 0) {
    if (operation.op === "remove") throw new TypeError("cannot remove the whole document");
    return structuredClone(operation.value);
  }
  const last = tokens[tokens.length - 1] as string;
  const parent = valueAtTokens(doc, tokens.slice(0, -1), operation.path);
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
  return doc;
}

function arrayIndex(token: string, path: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new TypeError(`bad array index in ${path}`);
  return Number(token);
}

/** The value the tokens name (own members only); throws a TypeError naming `path` when none. */
export function valueAtTokens(document: JsonValue, tokens: readonly string[], path: string): JsonValue {
  let node = document;
  for (const token of tokens) {
    if (Array.isArray(node)) {
      const index = arrayIndex(token, path);
      if (index >= node.length) throw new TypeError(`path does not resolve: ${path}`);
      node = node[index] as JsonValue;
    } else if (isObject(node) && Object.hasOwn(node, token)) {
      node = node[token] as JsonValue;
    } else {
      throw new TypeError(`path does not resolve: ${path}`);
    }
  }
  return node;
}
