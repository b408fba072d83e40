/**
 * Property tests of the key rules (DESIGN §2) against an oracle written from the spec's words,
 * and of the KV names built from keys: distinct (key, version) pairs never share a record, so one
 * key's config can never be read in place of another's.
 */
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { kvKeys, parseKey } from "../../../core";

let tried = 0;
afterAll(() => {
  console.log(JSON.stringify({ suite: "keys-property (unit)", tried }));
});

/** DESIGN §2, literally: 2–4 segments; each [a-z0-9][a-z0-9._-]{0,63}; none is "." or "..". */
function oracle(raw: string): boolean {
  const segments = raw.split("/");
  if (segments.length < 2 || segments.length > 4) return false;
  return segments.every((segment) => {
    if (segment === "." || segment === "..") return false;
    if (segment.length < 1 || segment.length > 64) return false;
    const first = segment.charCodeAt(0);
    const alnum = (c: number) => (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39);
    if (!alnum(first)) return false;
    for (let i = 1; i < segment.length; i++) {
      const c = segment.charCodeAt(i);
      if (!alnum(c) && c !== 0x2e && c !== 0x5f && c !== 0x2d) return false;
    }
    return true;
  });
}

const validSegment = fc
  .tuple(
    fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789"),
    fc.string({ unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789._-"), maxLength: 63 }),
  )
  .map(([first, rest]) => first + rest);
const validKey = fc.array(validSegment, { minLength: 2, maxLength: 4 }).map((s) => s.join("/"));
/** Strings near the boundary: valid characters mixed with the ones that break keys. */
const nearKey = fc.string({
  unit: fc.constantFrom(
    ..."ab09._-/",
    "/",
    ".",
    "..",
    "A",
    "%",
    "%2e",
    " ",
    "\u00e9",
    "\u0000",
    "\\",
    "a".repeat(64),
  ),
  maxLength: 12,
});

describe("parseKey", { timeout: 120_000 }, () => {
  it("accepts exactly what DESIGN §2 describes", () => {
    fc.assert(
      fc.property(fc.oneof(validKey, nearKey, fc.string({ maxLength: 40 })), (raw) => {
        tried++;
        expect(parseKey(raw).ok).toBe(oracle(raw));
      }),
      { numRuns: 20_000 },
    );
  });

  it("names the first segment as the namespace of every valid key", () => {
    fc.assert(
      fc.property(validKey, (raw) => {
        tried++;
        const parsed = parseKey(raw);
        expect(parsed.ok && parsed.value.namespace).toBe(raw.split("/")[0]);
      }),
      { numRuns: 2000 },
    );
  });

  it("never accepts a key containing a dot-dot or dot segment, raw or percent-encoded", () => {
    fc.assert(
      fc.property(
        fc.array(validSegment, { minLength: 1, maxLength: 3 }),
        fc.constantFrom(".", "..", "%2e", "%2e%2e", "%2E%2E", ".%2e"),
        fc.nat(),
        (segments, dots, at) => {
          tried++;
          const list = [...segments];
          list.splice(at % (list.length + 1), 0, dots);
          expect(parseKey(list.join("/")).ok).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe("KV record names", { timeout: 120_000 }, () => {
  it("are distinct for distinct (key, version) pairs, so no record serves two keys", () => {
    fc.assert(
      fc.property(
        validKey,
        fc.integer({ min: 1, max: 1e9 }),
        validKey,
        fc.integer({ min: 1, max: 1e9 }),
        (k1, v1, k2, v2) => {
          tried++;
          const same = k1 === k2 && v1 === v2;
          expect(kvKeys.snapshot(k1, v1) === kvKeys.snapshot(k2, v2)).toBe(same);
          expect(kvKeys.head(k1) === kvKeys.head(k2)).toBe(k1 === k2);
          // A head name is never a snapshot name and vice versa.
          expect(kvKeys.head(k1)).not.toBe(kvKeys.snapshot(k2, v2));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it("keep the version as its own last segment: a/b v12 is not a/b/1 v2", () => {
    expect(kvKeys.snapshot("a/b", 12)).not.toBe(kvKeys.snapshot("a/b/1", 2));
    expect(kvKeys.snapshot("a/b/1", 2)).toBe("snap/a/b/1/2");
  });
});
