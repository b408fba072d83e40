import { describe, expect, it } from "vitest";
import { checkFlagdDocument, FLAGD_SCHEMA_URL, isFlagdDocument } from "../../../core/flagd-schema";
import { demoFlags } from "../../support/flagd-fixture";

const check = (key: string, doc: unknown) => checkFlagdDocument(key, JSON.stringify(doc));

describe("which keys hold flagd flag definitions", () => {
  it("treats {namespace}/flags as flagd-format whatever it holds", () => {
    expect(isFlagdDocument("payments/flags", { anything: 1 })).toBe(true);
  });

  it("treats a document naming flagd's $schema as flagd-format at any key", () => {
    expect(isFlagdDocument("payments/prod/features", { $schema: FLAGD_SCHEMA_URL })).toBe(true);
  });

  it("leaves other keys ending in flags alone (plain JSON keeps publishing)", () => {
    expect(isFlagdDocument("payments/prod/flags", { beta: true })).toBe(false);
    expect(check("payments/prod/flags", { beta: true })).toEqual({ ok: true });
  });
});

describe("checkFlagdDocument: what @openfeature/flagd-core refuses to load", () => {
  it("accepts a document with targeting, $evaluators, fractional and metadata", () => {
    expect(check("demo/flags", demoFlags())).toEqual({ ok: true });
  });

  it("refuses a flag whose default variant is not among its variants, pointing at the flag", () => {
    const result = check("demo/flags", {
      flags: { mixed: { state: "ENABLED", variants: { a: true, b: false }, defaultVariant: "zz" } },
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.detail).toContain("flagd");
    expect(result.errors.some((e) => e.pointer.startsWith("/flags/mixed"))).toBe(true);
  });

  it("refuses an unknown state and a document without flags", () => {
    const badState = check("demo/flags", {
      flags: { f: { state: "ON", variants: { on: true }, defaultVariant: "on" } },
    });
    expect(badState.ok).toBe(false);
    expect(check("demo/flags", { hello: "world" }).ok).toBe(false);
  });

  it("checks a document that names flagd's $schema at another key", () => {
    const result = check("demo/app/features", {
      $schema: FLAGD_SCHEMA_URL,
      flags: { f: { state: "ON", variants: { on: true }, defaultVariant: "on" } },
    });
    expect(result.ok).toBe(false);
    expect(check("demo/app/features", { ...demoFlags(), $schema: FLAGD_SCHEMA_URL })).toEqual({ ok: true });
  });
});
