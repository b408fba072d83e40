import { describe, expect, it } from "vitest";
import { isLinearPattern, withLinearPatterns } from "../../../origin/validation/linear-regex";

describe("withLinearPatterns", () => {
  it("puts the global RegExp back after a run, also when the run throws", () => {
    const original = globalThis.RegExp;
    expect(withLinearPatterns(() => /^a+$/u.test("aaa"))).toBe(true);
    expect(globalThis.RegExp).toBe(original);
    expect(() =>
      withLinearPatterns(() => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(globalThis.RegExp).toBe(original);
  });
});

describe("isLinearPattern", () => {
  it.each(["^[a-z]+$", "\\d{3}-\\d{4}", "^(?<year>\\d{4})$", "é+"])("accepts %s", (p) => {
    expect(isLinearPattern(p)).toBe(true);
  });
  it.each(["(a)\\1", "(?=a)", "(?<!a)b", "(", "a".repeat(1025)])("refuses %s", (p) => {
    expect(isLinearPattern(p)).toBe(false);
  });
});
