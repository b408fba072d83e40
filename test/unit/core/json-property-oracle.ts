/**
 * An independent statement of which bytes fleetconf accepts as config content (DESIGN §2,
 * docs/decisions.md): valid UTF-8 without a byte order mark, JSON that the platform's own
 * `JSON.parse` accepts, nesting at most 64 deep, and no member name twice in one object. Built
 * from `TextDecoder` and `JSON.parse` rather than from core's scanner, so property tests compare
 * two implementations instead of one with itself. Also the mutations those tests apply.
 */
import fc from "fast-check";

export const ORACLE_MAX_DEPTH = 64;

export type Verdict = { valid: true } | { valid: false; why: string };

/** Depth in containers: `1` is 0, `[]` is 1, `[[1]]` is 2 (the rule in docs/decisions.md). */
function depthOf(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depthOf));
  if (typeof value === "object" && value !== null)
    return 1 + Math.max(0, ...Object.values(value).map(depthOf));
  return 0;
}

/** Member names kept by JSON.parse (duplicates collapse into one). */
function memberCount(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + memberCount(item), 0);
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).reduce((sum, [, item]) => sum + 1 + memberCount(item), 0);
  }
  return 0;
}

/**
 * Member names written in the text. In valid JSON a string token followed by `:` is always a
 * member name, so counting those and comparing with what JSON.parse kept reveals duplicates.
 * Tokens are walked in order (a string, or any other single character) so a quote inside one
 * string is never mistaken for the start of another.
 */
function writtenMemberNames(text: string): number {
  const token = /"(?:[^"\\]|\\.)*"|[^"]/g;
  const colon = /[ \t\n\r]*:/y;
  let count = 0;
  for (let match = token.exec(text); match !== null; match = token.exec(text)) {
    if (!match[0].startsWith('"')) continue;
    colon.lastIndex = token.lastIndex;
    if (colon.test(text)) count++;
  }
  return count;
}

export function oracle(bytes: Uint8Array): Verdict {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return { valid: false, why: "utf-8" };
  }
  if (text.startsWith("\uFEFF")) return { valid: false, why: "bom" };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { valid: false, why: "syntax" };
  }
  // Deep documents are refused before recursing into them (JSON.parse itself copes with depth).
  if (text.length > 0 && maxBracketDepth(text) > ORACLE_MAX_DEPTH) return { valid: false, why: "depth" };
  if (depthOf(value) > ORACLE_MAX_DEPTH) return { valid: false, why: "depth" };
  if (writtenMemberNames(text) !== memberCount(value)) return { valid: false, why: "duplicate" };
  return { valid: true };
}

/** Bracket depth outside strings: an upper bound of the value's depth, cheap on hostile input. */
function maxBracketDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "[" || c === "{") max = Math.max(max, ++depth);
    else if (c === "]" || c === "}") depth--;
  }
  return max;
}

const encoder = new TextEncoder();

/** Bytes that are often meaningful to a JSON scanner, plus any byte at all. */
const interestingByte = fc.oneof(
  fc.constantFrom(
    ...encoder.encode('{}[]",:\\ \n-+.eE0123456789tfnu'),
    0x00,
    0x7f,
    0x80,
    0xc0,
    0xed,
    0xef,
    0xff,
  ),
  fc.integer({ min: 0, max: 255 }),
);

export type Mutation =
  | { kind: "flip"; at: number; byte: number }
  | { kind: "insert"; at: number; byte: number }
  | { kind: "delete"; at: number }
  | { kind: "truncate"; at: number }
  | { kind: "append"; bytes: number[] }
  | { kind: "duplicate-member" }
  | { kind: "wrap"; depth: number };

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), byte: interestingByte }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), byte: interestingByte }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("append" as const), bytes: fc.array(interestingByte, { maxLength: 4 }) }),
  fc.record({ kind: fc.constant("duplicate-member" as const) }),
  fc.record({ kind: fc.constant("wrap" as const), depth: fc.integer({ min: 1, max: 70 }) }),
);

/** Applies one mutation; positions wrap around the current length. */
export function mutate(bytes: Uint8Array, mutation: Mutation): Uint8Array {
  const list = [...bytes];
  const at = (n: number) => (list.length === 0 ? 0 : n % (list.length + 1));
  switch (mutation.kind) {
    case "flip":
      if (list.length > 0) list[at(mutation.at) % list.length] = mutation.byte;
      break;
    case "insert":
      list.splice(at(mutation.at), 0, mutation.byte);
      break;
    case "delete":
      if (list.length > 0) list.splice(at(mutation.at) % list.length, 1);
      break;
    case "truncate":
      list.length = at(mutation.at);
      break;
    case "append":
      list.push(...mutation.bytes);
      break;
    case "duplicate-member": {
      // `{"k":…` becomes `{"k":0,"k":…`: the same name twice in one object.
      const text = new TextDecoder().decode(bytes);
      const match = /\{\s*("(?:[^"\\]|\\.)*")\s*:/.exec(text);
      if (!match?.[1]) break;
      const index = match.index + match[0].length;
      return encoder.encode(`${text.slice(0, index)}0,${match[1]}:${text.slice(index)}`);
    }
    case "wrap":
      return encoder.encode(
        `${"[".repeat(mutation.depth)}${new TextDecoder().decode(bytes)}${"]".repeat(mutation.depth)}`,
      );
  }
  return Uint8Array.from(list);
}

/** A valid document: any JSON value, serialised compactly or indented. */
export const validDocumentArb: fc.Arbitrary<Uint8Array> = fc
  .tuple(fc.jsonValue({ maxDepth: 6 }), fc.constantFrom(undefined, 1, 2, "\t"))
  .map(([value, indent]) => encoder.encode(JSON.stringify(value, null, indent)));

/** A document after 1–4 random mutations, or random bytes: mostly invalid, sometimes not. */
export const hostileBodyArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc
    .tuple(validDocumentArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
    .map(([doc, mutations]) => mutations.reduce(mutate, doc)),
  fc.uint8Array({ maxLength: 48 }),
  fc.string({ unit: "binary", maxLength: 32 }).map((s) => encoder.encode(s)),
);
