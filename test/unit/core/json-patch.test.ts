/**
 * core/json-patch.ts: the checked RFC 6902 patches the origin's diff route serves. Property-tested
 * with fast-check: applying the patch of (a, b) to a yields b, also after the patch went through
 * JSON text, and the changes (with old values) can be read back from the patch.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { diffJson, type JsonValue } from "../../../core/json-diff";
import {
  applyPatch,
  changesOf,
  checkedPatch,
  diffPatch,
  type PatchOperation,
  parsePatch,
  valueAt,
} from "../../../core/json-patch";

// JSON has no -0 and no undefined: compare documents as they come out of JSON text.
const clean = (v: unknown) => JSON.parse(JSON.stringify(v)) as JsonValue;
const json = fc.jsonValue({ maxDepth: 4 }).map(clean);
/** b derived from a (a few members or elements changed), which exercises alignment and nesting. */
const related = fc
  .tuple(json, fc.array(fc.tuple(fc.string({ maxLength: 3 }), json), { maxLength: 4 }), json)
  .map(([a, edits, extra]): [JsonValue, JsonValue] => {
    if (Array.isArray(a)) return [a, [extra, ...a.slice(1)]];
    if (typeof a === "object" && a !== null) {
      const b: Record<string, JsonValue> = { ...a };
      for (const [name, value] of edits)
        Object.defineProperty(b, name, { value, enumerable: true, writable: true, configurable: true });
      return [a, b];
    }
    return [a, extra];
  });
const pairs = fc.oneof(fc.tuple(json, json), related);

describe("diffPatch (property)", () => {
  it("turns the first document into the second when applied", () => {
    fc.assert(
      fc.property(pairs, ([a, b]) => {
        expect(applyPatch(a, diffPatch(a, b))).toEqual(b);
      }),
      { numRuns: 600 },
    );
  });

  it("still applies after a round trip through JSON text and parsePatch, as a client receives it", () => {
    fc.assert(
      fc.property(pairs, ([a, b]) => {
        const received = parsePatch(JSON.parse(JSON.stringify(diffPatch(a, b))));
        expect(received).not.toBeNull();
        expect(applyPatch(a, received ?? [])).toEqual(b);
      }),
      { numRuns: 300 },
    );
  });

  it("gives back the structural changes, old values included", () => {
    fc.assert(
      fc.property(pairs, ([a, b]) => {
        expect(changesOf(diffPatch(a, b))).toEqual(diffJson(a, b));
      }),
      { numRuns: 300 },
    );
  });

  it("tests the old value before every remove and replace, and only then", () => {
    fc.assert(
      fc.property(pairs, ([a, b]) => {
        const patch = diffPatch(a, b);
        // Paths name places in the document as the earlier operations left it.
        let doc = a;
        patch.forEach((operation, i) => {
          if (operation.op === "test") {
            expect(["remove", "replace"]).toContain(patch[i + 1]?.op);
            expect(valueAt(doc, operation.path)).toEqual(operation.value);
            return;
          }
          if (operation.op !== "add")
            expect(patch[i - 1]).toMatchObject({ op: "test", path: operation.path });
          doc = applyPatch(doc, [operation]);
        });
      }),
      { numRuns: 300 },
    );
  });

  it("does not modify the document it is applied to", () => {
    fc.assert(
      fc.property(pairs, ([a, b]) => {
        const before = clean(a);
        applyPatch(a, diffPatch(a, b));
        expect(a).toEqual(before);
      }),
      { numRuns: 200 },
    );
  });
});

describe("applyPatch", () => {
  it("fails when a test does not hold: the patch applies only to the version it came from (RFC 6902 §5)", () => {
    const patch = diffPatch({ rps: 100, beta: false }, { rps: 250, beta: false });
    expect(() => applyPatch({ rps: 120, beta: false }, patch)).toThrow(/test failed at "\/rps"/);
  });

  it("fails on a path that does not resolve", () => {
    expect(() => applyPatch({ a: 1 }, [{ op: "test", path: "/b", value: 1 }])).toThrow(TypeError);
    expect(() => applyPatch([1], [{ op: "test", path: "/1", value: 1 }])).toThrow(TypeError);
  });

  it("compares tested values structurally, whatever the member order", () => {
    expect(
      applyPatch({ o: { x: 1, y: [2] } }, [{ op: "test", path: "/o", value: { y: [2], x: 1 } }]),
    ).toEqual({
      o: { x: 1, y: [2] },
    });
  });

  it("handles ~ and / in member names (RFC 6901 §3)", () => {
    const a = { "a/b": { "c~d": 1 } };
    const b = { "a/b": { "c~d": 2 } };
    expect(diffPatch(a, b)).toEqual([
      { op: "test", path: "/a~1b/c~0d", value: 1 },
      { op: "replace", path: "/a~1b/c~0d", value: 2 },
    ]);
    expect(applyPatch(a, diffPatch(a, b))).toEqual(b);
  });

  it("replaces the whole document, tested first, when its type changes", () => {
    expect(diffPatch([1], { a: 1 })).toEqual([
      { op: "test", path: "", value: [1] },
      { op: "replace", path: "", value: { a: 1 } },
    ]);
  });
});

describe("changesOf and parsePatch", () => {
  it("answers null for a patch whose remove or replace has no test (old value unknown)", () => {
    expect(changesOf([{ op: "replace", path: "/a", value: 1 }])).toBeNull();
    expect(
      changesOf([
        { op: "test", path: "/a", value: 1 },
        { op: "remove", path: "/b" },
      ]),
    ).toBeNull();
    expect(changesOf([{ op: "test", path: "/a", value: 1 }])).toBeNull();
  });

  it("reads a checked patch built from changes back into the same changes", () => {
    const changes = diffJson({ a: 1, b: [1, 2] }, { b: [2], c: null });
    expect(changesOf(checkedPatch(changes))).toEqual(changes);
  });

  it.each([
    ["not an array", { op: "add" }],
    ["an unknown op", [{ op: "move", from: "/a", path: "/b" }]],
    ["a path without a leading slash", [{ op: "remove", path: "a" }]],
    ["an add without a value", [{ op: "add", path: "/a" }]],
    ["a non-object entry", ["add"]],
  ])("refuses %s", (_, value) => {
    expect(parsePatch(value)).toBeNull();
  });

  it("keeps a value of null, which is a value", () => {
    const patch: PatchOperation[] = [{ op: "add", path: "/a", value: null }];
    expect(parsePatch(JSON.parse(JSON.stringify(patch)))).toEqual(patch);
  });
});
