/**
 * core/json-diff.ts: the structural diff behind `fleetconf diff`. Its patches are checked by
 * applying them (RFC 6902 semantics) — for hand-picked cases and for random document pairs.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  applyJsonPatch,
  diffJson,
  escapePointerToken,
  type JsonValue,
  jsonEqual,
  LCS_CELL_LIMIT,
  parsePointer,
  toJsonPatch,
} from "../../../core/json-diff";

const roundTrip = (a: JsonValue, b: JsonValue) => applyJsonPatch(a, toJsonPatch(diffJson(a, b)));

describe("diffJson", () => {
  it("finds nothing between equal documents, whatever the member order", () => {
    expect(diffJson({ a: 1, b: [1, { c: null }] }, { b: [1, { c: null }], a: 1 })).toEqual([]);
  });

  it("reports changed, removed and added members by JSON Pointer", () => {
    expect(diffJson({ a: 1, b: 2 }, { a: 5, c: 3 })).toEqual([
      { op: "replace", path: "/a", oldValue: 1, value: 5 },
      { op: "remove", path: "/b", oldValue: 2 },
      { op: "add", path: "/c", value: 3 },
    ]);
  });

  it("turns one inserted array element into one add, not a cascade of replaces", () => {
    expect(diffJson({ xs: [1, 2, 3, 4] }, { xs: [0, 1, 2, 3, 4] })).toEqual([
      { op: "add", path: "/xs/0", value: 0 },
    ]);
  });

  it("turns one removed array element into one remove", () => {
    expect(diffJson([1, 2, 3], [1, 3])).toEqual([{ op: "remove", path: "/1", oldValue: 2 }]);
  });

  it("descends into a changed array element that is an object", () => {
    expect(diffJson([{ id: 1, on: false }], [{ id: 1, on: true }])).toEqual([
      { op: "replace", path: "/0/on", oldValue: false, value: true },
    ]);
  });

  it("escapes ~ and / in member names (RFC 6901 §3)", () => {
    expect(diffJson({}, { "a/b": 1, "c~d": 2 }).map((c) => c.path)).toEqual(["/a~1b", "/c~0d"]);
    expect(escapePointerToken("~/")).toBe("~0~1");
    expect(parsePointer("/a~1b/c~0d/~01")).toEqual(["a/b", "c~d", "~1"]);
  });

  it("replaces the whole document when its type changes", () => {
    expect(diffJson({ a: 1 }, [1])).toEqual([{ op: "replace", path: "", oldValue: { a: 1 }, value: [1] }]);
  });

  it('distinguishes values JSON distinguishes (null vs missing, 1 vs "1", [] vs {})', () => {
    expect(diffJson({ a: null }, {})).toHaveLength(1);
    expect(diffJson({ a: 1 }, { a: "1" })).toHaveLength(1);
    expect(diffJson({ a: [] }, { a: {} })).toHaveLength(1);
  });

  it("falls back to index comparison for huge arrays and still yields a correct patch", () => {
    const side = Math.ceil(Math.sqrt(LCS_CELL_LIMIT)) + 1;
    const a = Array.from({ length: side }, (_, i) => i);
    const b = [-1, ...a.slice(0, -1)];
    expect(jsonEqual(roundTrip(a, b), b)).toBe(true);
  });
});

describe("applyJsonPatch", () => {
  it("treats a member named __proto__ as a plain member", () => {
    const after = JSON.parse('{"__proto__": {"polluted": true}}') as JsonValue;
    const result = roundTrip({}, after) as Record<string, unknown>;
    expect(Object.keys(result)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
  });

  it("fails on a path that does not resolve (RFC 6902 §5)", () => {
    expect(() => applyJsonPatch({ a: 1 }, [{ op: "remove", path: "/b" }])).toThrow(TypeError);
    expect(() => applyJsonPatch([1], [{ op: "replace", path: "/5", value: 1 }])).toThrow(TypeError);
    expect(() => applyJsonPatch({ a: 1 }, [{ op: "add", path: "/a/b/c", value: 1 }])).toThrow(TypeError);
  });

  it("does not modify its input", () => {
    const before = { a: [1, 2] };
    applyJsonPatch(before, [{ op: "add", path: "/a/0", value: 0 }]);
    expect(before).toEqual({ a: [1, 2] });
  });

  it("applies the patch of any two documents to get the second (property)", () => {
    const json = fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<JsonValue>;
    // Arrays that share elements exercise the LCS alignment more than independent documents.
    const related = fc
      .tuple(json, fc.array(json, { maxLength: 6 }))
      .map(([a, extra]) => [a, Array.isArray(a) ? [...extra, ...a] : extra] as const);
    fc.assert(
      fc.property(fc.oneof(fc.tuple(json, json), related), ([a, b]) => {
        // JSON has no -0; the diff compares parsed documents, where it cannot occur.
        const clean = (v: JsonValue) => JSON.parse(JSON.stringify(v)) as JsonValue;
        const [x, y] = [clean(a as JsonValue), clean(b as JsonValue)];
        expect(roundTrip(x, y)).toEqual(y);
        if (jsonEqual(x, y)) expect(diffJson(x, y)).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });
});
