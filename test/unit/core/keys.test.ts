import { describe, expect, it } from "vitest";
import { FleetconfError, parseKey, parseVersion, requireKey } from "../../../core";

describe("parseKey", () => {
  it.each(["payments/prod", "payments/prod/flags", "a/b/c/d", "a0/b.c/d_e/f-g", `${"a".repeat(64)}/x`])(
    "accepts %s",
    (raw) => {
      const result = parseKey(raw);
      expect(result.ok).toBe(true);
      if (result.ok) expect(result.value.namespace).toBe(raw.split("/")[0]);
    },
  );

  it.each([
    ["one segment", "payments"],
    ["five segments", "a/b/c/d/e"],
    ["upper case", "Payments/prod"],
    ["non-ASCII", "päyments/prod"],
    ["a dot segment", "a/./b"],
    ["a dot-dot segment", "a/../b"],
    ["percent-encoded dot-dot", "a/%2e%2e/b"],
    ["an empty segment", "a//b"],
    ["a trailing slash", "a/b/"],
    ["a leading dash", "a/-b"],
    ["a 65-char segment", `a/${"b".repeat(65)}`],
    ["the empty string", ""],
    ["a space", "a/b c"],
  ])("refuses %s", (_name, raw) => {
    expect(parseKey(raw).ok).toBe(false);
  });

  it("throws invalid_key (400) from requireKey", () => {
    expect(() => requireKey("A/b")).toThrowError(FleetconfError);
    try {
      requireKey("A/b");
    } catch (error) {
      expect((error as FleetconfError).code).toBe("invalid_key");
      expect((error as FleetconfError).status).toBe(400);
    }
  });
});

describe("parseVersion", () => {
  it("accepts positive integers", () => {
    expect(parseVersion("1")).toBe(1);
    expect(parseVersion("42")).toBe(42);
  });
  it.each(["0", "-1", "1.5", "01", "abc", "", "1e3", "9999999999999999"])("refuses %j", (raw) => {
    expect(() => parseVersion(raw)).toThrowError(/positive integer/);
  });
});
