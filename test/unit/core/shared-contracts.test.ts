/**
 * The contracts both workers share, defined once in core/: integer vars (core/settings.ts and the
 * edge's rules in worker/env.ts), PUBLIC_JWKS (core/public-jwks.ts), the client-id rule
 * (core/client-id.ts) and the internal-route secret (core/internal-secret.ts).
 */
import { describe, expect, it } from "vitest";
import {
  INTERNAL_SECRET_HEADER,
  internalSecretHolds,
  isClientId,
  PublicJwksError,
  parseIntegerSetting,
  parsePublicJwks,
  toClientId,
} from "../../../core";
import { parseMaxConfigBytes } from "../../../origin/config";
import { EDGE_INTEGER_RULES, edgeInteger } from "../../../worker/env";

const rule = { default: 2000, min: 1, max: 60_000 };

describe("parseIntegerSetting", () => {
  it("gives the default when the var is unset or blank", () => {
    expect(parseIntegerSetting("X", undefined, rule)).toEqual({ ok: true, value: 2000 });
    expect(parseIntegerSetting("X", "  ", rule)).toEqual({ ok: true, value: 2000 });
  });

  it("reads a plain decimal integer within the range, spaces trimmed", () => {
    expect(parseIntegerSetting("X", " 250 ", rule)).toEqual({ ok: true, value: 250 });
    expect(parseIntegerSetting("X", "60000", rule)).toEqual({ ok: true, value: 60_000 });
  });

  it.each(["0", "-5", "+5", "1e3", "0x10", "1.5", "007", "60001", "abc", "9".repeat(20)])(
    "refuses %s, naming the var and the range",
    (raw) => {
      const parsed = parseIntegerSetting("KV_READ_TIMEOUT_MS", raw, rule);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.reason).toMatch(/^KV_READ_TIMEOUT_MS must be an integer from 1 to 60000/);
    },
  );

  it("clamps to the ceiling instead of refusing when the rule says so", () => {
    expect(parseIntegerSetting("X", "999999", { ...rule, clampToMax: true })).toEqual({
      ok: true,
      value: 60_000,
    });
    expect(parseIntegerSetting("X", "0", { ...rule, clampToMax: true }).ok).toBe(false);
  });

  it("is the rule behind the origin's MAX_CONFIG_BYTES, which refuses to start on a bad value", () => {
    expect(parseMaxConfigBytes("1024")).toBe(1024);
    expect(() => parseMaxConfigBytes("1e6")).toThrow(/MAX_CONFIG_BYTES must be an integer at least 1/);
  });

  it("is the rule behind the edge's integer vars, which keep their default on a bad value", () => {
    expect(edgeInteger({ KV_READ_TIMEOUT_MS: "500" }, "KV_READ_TIMEOUT_MS")).toBe(500);
    expect(edgeInteger({ KV_READ_TIMEOUT_MS: "1e3" }, "KV_READ_TIMEOUT_MS")).toBe(
      EDGE_INTEGER_RULES.KV_READ_TIMEOUT_MS.default,
    );
    expect(edgeInteger({}, "MEMORY_CACHE_BYTES")).toBe(32 * 1024 * 1024);
    expect(edgeInteger({ FLEET_FLUSH_MS: "0" }, "FLEET_FLUSH_MS")).toBe(2000);
  });
});

describe("parsePublicJwks", () => {
  const key = { kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", kid: "s-1" };

  it("keeps only the public members, in a fixed order", () => {
    const raw = JSON.stringify({
      keys: [{ purpose: "read-token", use: "sig", ...key, alg: "EdDSA", extra: 1 }],
    });
    const { jwks, hadPrivateKey } = parsePublicJwks(raw);
    expect(hadPrivateKey).toBe(false);
    expect(JSON.stringify(jwks)).toBe(
      JSON.stringify({ keys: [{ ...key, alg: "EdDSA", use: "sig", purpose: "read-token" }] }),
    );
  });

  it("drops a private d and says it was there (the origin refuses, the edge serves the rest)", () => {
    const { jwks, hadPrivateKey } = parsePublicJwks(JSON.stringify({ keys: [{ ...key, d: "secret" }] }));
    expect(hadPrivateKey).toBe(true);
    expect(JSON.stringify(jwks)).not.toContain("secret");
  });

  it.each([
    ["unset", undefined, /not set/],
    ["not JSON", "{", /not valid JSON/],
    ["no keys array", "{}", /must be \{"keys"/],
    ["an RSA key", JSON.stringify({ keys: [{ ...key, kty: "RSA" }] }), /key 0 is not an Ed25519/],
    ["an empty kid", JSON.stringify({ keys: [{ ...key, kid: "" }] }), /key 0 is not an Ed25519/],
    ["an unknown purpose", JSON.stringify({ keys: [{ ...key, purpose: "admin" }] }), /unknown purpose/],
  ])("refuses %s with a PublicJwksError", (_, raw, reason) => {
    expect(() => parsePublicJwks(raw)).toThrow(PublicJwksError);
    expect(() => parsePublicJwks(raw)).toThrow(reason);
  });
});

describe("client ids", () => {
  it("accepts 1–128 characters of A-Z a-z 0-9 . _ : -", () => {
    expect(isClientId("pod-7.eu:web_1")).toBe(true);
    expect(isClientId("a".repeat(128))).toBe(true);
    expect(isClientId("a".repeat(129))).toBe(false);
    expect(isClientId("")).toBe(false);
    expect(isClientId("has space")).toBe(false);
    expect(isClientId(7)).toBe(false);
  });

  it("makes a valid client id from any host name", () => {
    expect(toClientId("web 1/eu", "agent")).toBe("web-1-eu");
    expect(isClientId(toClientId("é".repeat(300), "agent"))).toBe(true);
    expect(toClientId("", "agent")).toBe("agent");
  });
});

describe("internal-route secret", () => {
  it("is carried in Fleetconf-Purge-Secret", () => {
    expect(INTERNAL_SECRET_HEADER).toBe("Fleetconf-Purge-Secret");
  });

  it("holds only for the configured secret, and never when none is configured", () => {
    expect(internalSecretHolds("s3cret", "s3cret")).toBe(true);
    expect(internalSecretHolds("s3creT", "s3cret")).toBe(false);
    expect(internalSecretHolds(null, "s3cret")).toBe(false);
    expect(internalSecretHolds("", "")).toBe(false);
    expect(internalSecretHolds("x", undefined)).toBe(false);
  });
});
