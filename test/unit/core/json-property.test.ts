/**
 * Property tests of core's strict JSON validator against an independent oracle
 * (json-property-oracle.ts, built on TextDecoder and JSON.parse): for valid documents, mutated
 * documents and random bytes, `checkJsonDocument` accepts exactly what the oracle accepts, and
 * what it accepts it returns as the same text.
 */
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { checkJsonDocument, MAX_DEPTH } from "../../../core";
import { hostileBodyArb, mutate, ORACLE_MAX_DEPTH, oracle, validDocumentArb } from "./json-property-oracle";

const tried = { valid: 0, hostile: 0, accepted: 0, refused: 0 };
afterAll(() => {
  console.log(JSON.stringify({ suite: "json-property (unit)", ...tried }));
});

function agree(bytes: Uint8Array): boolean {
  const expected = oracle(bytes);
  const actual = checkJsonDocument(bytes);
  if (actual.ok) tried.accepted++;
  else tried.refused++;
  if (actual.ok !== expected.valid) {
    throw new Error(
      `checkJsonDocument ${actual.ok ? "accepted" : `refused (${actual.reason})`} but the oracle says ${JSON.stringify(expected)}: ${JSON.stringify(new TextDecoder().decode(bytes))}`,
    );
  }
  if (actual.ok) expect(actual.text).toBe(new TextDecoder().decode(bytes));
  return true;
}

describe("checkJsonDocument agrees with the oracle", { timeout: 120_000 }, () => {
  it("uses the same depth limit as the oracle", () => {
    expect(MAX_DEPTH).toBe(ORACLE_MAX_DEPTH);
  });

  it("accepts every serialised JSON value, compact or indented", () => {
    fc.assert(
      fc.property(validDocumentArb, (bytes) => {
        tried.valid++;
        expect(oracle(bytes)).toEqual({ valid: true });
        return agree(bytes);
      }),
      { numRuns: 3000 },
    );
  });

  it("decides mutated documents and random bytes exactly like the oracle", () => {
    fc.assert(
      fc.property(hostileBodyArb, (bytes) => {
        tried.hostile++;
        return agree(bytes);
      }),
      { numRuns: 20_000 },
    );
  });

  it("refuses a duplicate member name wherever it is inserted", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { minKeys: 1 }),
        (object) => {
          const bytes = mutate(new TextEncoder().encode(JSON.stringify(object)), {
            kind: "duplicate-member",
          });
          tried.hostile++;
          expect(checkJsonDocument(bytes).ok).toBe(false);
          return agree(bytes);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("accepts nesting up to 64 and refuses 65, for arrays and objects", () => {
    for (let depth = 60; depth <= 70; depth++) {
      for (const [open, close] of [
        ["[", "]"],
        ['{"a":', "}"],
      ] as const) {
        const bytes = new TextEncoder().encode(`${open.repeat(depth)}1${close.repeat(depth)}`);
        tried.hostile++;
        expect(checkJsonDocument(bytes).ok).toBe(depth <= 64);
        agree(bytes);
      }
    }
  });

  it("stays linear on hostile depth: a 1 MiB run of '[' is refused quickly", () => {
    const bytes = new TextEncoder().encode("[".repeat(1024 * 1024));
    const started = performance.now();
    expect(checkJsonDocument(bytes).ok).toBe(false);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
