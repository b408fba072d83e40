/**
 * How long a diff of 2,000-element arrays takes (docs/decisions.md, "JSON diff/patch"). A script,
 * not a test: timings belong in a measurement on a named machine, not in a pass/fail check.
 *
 *   npx tsx test/measure/json-diff-timing.ts                     # core/json-diff.ts as it is
 *   git show <commit>:core/json-diff.ts > /tmp/old-json-diff.ts
 *   OLD=/tmp/old-json-diff.ts npx tsx test/measure/json-diff-timing.ts   # and an older one beside it
 *   RAW=1 …                                                      # and plain rfc6902 createPatch
 */
import { createPatch } from "rfc6902";
import { applyJsonPatch, diffJson, type JsonValue, toJsonPatch } from "../../core/json-diff";

type Diff = (a: JsonValue, b: JsonValue) => unknown[];
const N = Number(process.env.N ?? 2000);
const item = (i: number, on = false): JsonValue => ({ id: i, name: `service-${i}`, on });
const base = Array.from({ length: N }, (_, i) => item(i));

const cases: [string, JsonValue, JsonValue][] = [
  ["one element inserted at the front", { xs: base }, { xs: [item(-1), ...base] }],
  [
    "one element changed in the middle",
    { xs: base },
    { xs: base.map((x, i) => (i === N / 2 ? item(i, true) : x)) },
  ],
  ["every element changed", { xs: base }, { xs: base.map((_, i) => item(i, true)) }],
  ["numbers reversed", Array.from({ length: N }, (_, i) => i), Array.from({ length: N }, (_, i) => N - i)],
];

function time(diff: Diff, a: JsonValue, b: JsonValue): { ms: number; ops: number } {
  diff(a, b); // warm up the JIT once
  const runs = 3;
  let ops = 0;
  const start = performance.now();
  for (let i = 0; i < runs; i++) ops = diff(a, b).length;
  return { ms: (performance.now() - start) / runs, ops };
}

const implementations: [string, Diff][] = [["core/json-diff.ts (rfc6902, bounded)", diffJson]];
if (process.env.OLD) {
  const old = (await import(process.env.OLD)) as { diffJson: Diff };
  implementations.push([`old (${process.env.OLD})`, old.diffJson]);
}
if (process.env.RAW) implementations.push(["rfc6902 createPatch, unbounded", (a, b) => createPatch(a, b)]);

for (const [name, a, b] of cases) {
  // The patch must be right before its time means anything.
  if (JSON.stringify(applyJsonPatch(a, toJsonPatch(diffJson(a, b)))) !== JSON.stringify(b))
    throw new Error(`wrong patch for ${name}`);
  for (const [impl, diff] of implementations) {
    const { ms, ops } = time(diff, a, b);
    console.log(`${name.padEnd(36)} ${impl.padEnd(40)} ${ms.toFixed(1).padStart(9)} ms  ${ops} ops`);
  }
}
