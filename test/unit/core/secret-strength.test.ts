import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { secretStrength } from "../../../core";

describe("secretStrength", () => {
  it.each([
    ["32 random bytes, base64url", randomBytes(32).toString("base64url")],
    ["32 random bytes, hex", randomBytes(32).toString("hex")],
    ["32 random bytes, base64 (openssl rand -base64 32)", randomBytes(32).toString("base64")],
  ])("accepts %s", (_name, secret) => {
    expect(secretStrength(secret).ok).toBe(true);
  });

  it.each([
    ["empty", ""],
    ["a password", "correct horse battery staple"],
    ["16 random bytes, hex", randomBytes(16).toString("hex")],
    ["one character repeated", "a".repeat(200)],
    ["a short word repeated", "secret".repeat(20)],
  ])("refuses %s", (_name, secret) => {
    const strength = secretStrength(secret);
    expect(strength.ok).toBe(false);
    expect(strength.ok ? "" : strength.reason).toMatch(/bits|distinct/);
  });
});
