/**
 * core/json-diff.ts on large arrays: rfc6902 aligns what is left after the common head and tail
 * are cut off, and arrays too long to align are compared index by index. These check the shape
 * of the patch (how many operations, which paths), never a time: timings are in
 * test/measure/json-diff-timing.ts and docs/decisions.md.
 */
import { describe, expect, it } from "vitest";
import {
  applyJsonPatch,
  diffJson,
  type JsonValue,
  LCS_CELL_LIMIT,
  toJsonPatch,
} from "../../../core/json-diff";

const items = (n: number) => Array.from({ length: n }, (_, i): JsonValue => ({ id: i, on: false }));
const applies = (a: JsonValue, b: JsonValue) =>
  expect(applyJsonPatch(a, toJsonPatch(diffJson(a, b)))).toEqual(b);

describe("diffJson on large arrays", () => {
  it("gives one change for one element changed in the middle of 2,000", () => {
    const a = items(2000);
    const b = a.map((x, i) => (i === 1000 ? { id: i, on: true } : x));
    expect(diffJson(a, b)).toEqual([{ op: "replace", path: "/1000/on", oldValue: false, value: true }]);
  });

  it("gives one add for one element inserted near the front of 2,000", () => {
    const a = items(2000);
    const b = [...a.slice(0, 3), { id: -1, on: true }, ...a.slice(3)];
    expect(diffJson({ xs: a }, { xs: b })).toEqual([
      { op: "add", path: "/xs/3", value: { id: -1, on: true } },
    ]);
  });

  it("numbers appends inside the array by index, with the common tail still after them", () => {
    const a = [1, 2, 3, 9];
    const b = [1, 2, 3, 4, 5, 9];
    expect(diffJson(a, b)).toEqual([
      { op: "add", path: "/3", value: 4 },
      { op: "add", path: "/4", value: 5 },
    ]);
    applies(a, b);
  });

  it("shifts the aligned middle's paths by the common head, removals included", () => {
    const a = [0, 0, 0, 1, 2, 3, 4, 7, 7];
    const b = [0, 0, 0, 2, 4, 5, 7, 7];
    const changes = diffJson(a, b);
    expect(changes.every((c) => Number(c.path.slice(1)) >= 3)).toBe(true);
    applies(a, b);
  });

  it("compares arrays too long to align index by index: two scattered edits stay two changes", () => {
    const side = Math.ceil(Math.sqrt(LCS_CELL_LIMIT)) + 10;
    const a = items(side);
    const b = a.map((x, i) => (i === 1 || i === side - 2 ? { id: i, on: true } : x));
    expect(diffJson(a, b).map((c) => c.path)).toEqual(["/1/on", `/${side - 2}/on`]);
  });

  it("removes the surplus of a shorter array from its end when comparing index by index", () => {
    const side = Math.ceil(Math.sqrt(LCS_CELL_LIMIT)) + 10;
    const a = Array.from({ length: side }, (_, i) => i);
    const b = Array.from({ length: side - 2 }, (_, i) => -i - 1);
    const changes = diffJson(a, b);
    expect(changes.slice(-2)).toEqual([
      { op: "remove", path: `/${side - 1}`, oldValue: side - 1 },
      { op: "remove", path: `/${side - 2}`, oldValue: side - 2 },
    ]);
    applies(a, b);
  });

  it("diffs documents with members rfc6902's own patcher cannot address (__proto__, constructor, -)", () => {
    const a = JSON.parse('{"constructor":{"x":1},"__proto__":{"y":[1]},"-":1}') as JsonValue;
    const b = JSON.parse('{"constructor":{"x":2},"__proto__":{"y":[1,2]},"-":2}') as JsonValue;
    expect(diffJson(a, b).map((c) => c.path)).toEqual(["/constructor/x", "/__proto__/y/1", "/-"]);
    applies(a, b);
  });
});
