import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkJsonDocument, utf8Bytes } from "../../../core";

const check = (text: string) => checkJsonDocument(utf8Bytes(text));

describe("checkJsonDocument", () => {
  it.each([
    "{}",
    "[]",
    "0",
    '"s"',
    "null",
    ' {"a": [1, 2.5, -3e10, true, false, null, {"b": "\\u00e9\\n"}]} ',
    '{"a":1,"b":{"a":2}}',
  ])("accepts %s", (text) => {
    expect(check(text)).toEqual({ ok: true, text });
  });

  it.each([
    ["truncated", '{"a": [1, 2'],
    ["trailing garbage", '{"a":1} x'],
    ["two documents", "{} {}"],
    ["a trailing comma", "[1,]"],
    ["a trailing comma in an object", '{"a":1,}'],
    ["single quotes", "{'a':1}"],
    ["a leading zero", "[01]"],
    ["NaN", "[NaN]"],
    ["a bare word", "hello"],
    ["an unescaped control character", '"a\u0001b"'],
    ["a bad escape", '"\\x41"'],
    ["an empty body", ""],
    ["a comment", "{} // x"],
    ["a duplicate member name", '{"a":1,"a":2}'],
    ["a duplicate name spelt with an escape", '{"a":1,"\\u0061":2}'],
    ["a byte order mark", "\ufeff{}"],
  ])("refuses %s", (_name, text) => {
    expect(check(text).ok).toBe(false);
  });

  it("allows nesting 64 deep and refuses 65", () => {
    expect(check(`${"[".repeat(64)}${"]".repeat(64)}`).ok).toBe(true);
    expect(check(`${"[".repeat(65)}${"]".repeat(65)}`)).toMatchObject({
      ok: false,
      reason: "nesting deeper than 64",
    });
    expect(check(`${'{"a":'.repeat(65)}1${"}".repeat(65)}`).ok).toBe(false);
  });

  it("refuses invalid UTF-8", () => {
    expect(checkJsonDocument(new Uint8Array([0x22, 0xc3, 0x28, 0x22]))).toMatchObject({ ok: false });
  });

  it("survives a hostile 100k-deep document without recursion", () => {
    expect(check("[".repeat(100_000)).ok).toBe(false);
  });

  it("agrees with JSON.parse on every document JSON.stringify produces (property)", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 10 }), (value) => {
        const text = JSON.stringify(value);
        expect(check(text).ok).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("never accepts what JSON.parse rejects (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        let parses = true;
        try {
          JSON.parse(text);
        } catch {
          parses = false;
        }
        if (!parses) expect(check(text).ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});
