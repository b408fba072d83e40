import { describe, expect, it } from "vitest";
import { KV_VALUE_LIMIT_BYTES } from "../../../core";
import {
  ConfigurationError,
  DEFAULT_MAX_CONFIG_BYTES,
  MAX_CONFIG_BYTES_CEILING,
  parseMaxConfigBytes,
  parseOriginConfig,
} from "../../../origin/config";
import type { OriginEnv } from "../../../origin/env";
import { generateSecrets as testSecrets } from "../../../scripts/lib/secrets";

function envWith(overrides: Partial<Record<keyof OriginEnv, unknown>> = {}): OriginEnv {
  return {
    ...testSecrets(),
    BUILD_VERSION: "1.2.3",
    EDGE: { fetch: () => Promise.reject(new Error("unused")) },
    ...overrides,
  } as unknown as OriginEnv;
}

describe("parseMaxConfigBytes", () => {
  it("defaults to 1 MiB and clamps below one KV value (25 MiB minus the record header)", () => {
    expect(parseMaxConfigBytes(undefined)).toBe(DEFAULT_MAX_CONFIG_BYTES);
    expect(parseMaxConfigBytes("2048")).toBe(2048);
    expect(parseMaxConfigBytes(String(100 * 1024 * 1024))).toBe(MAX_CONFIG_BYTES_CEILING);
    expect(MAX_CONFIG_BYTES_CEILING).toBeLessThan(KV_VALUE_LIMIT_BYTES);
  });

  it.each(["0", "-5", "1.5", "lots"])("refuses %s", (raw) => {
    expect(() => parseMaxConfigBytes(raw)).toThrow(ConfigurationError);
  });
});

describe("parseOriginConfig", () => {
  it("parses the secrets and imports the signing key once", async () => {
    const env = envWith();
    const config = await parseOriginConfig(env);
    const signer = (JSON.parse(env.SIGNING_KEYS) as { kid: string }[])[0];
    expect(config.signing.kid).toBe(signer?.kid);
    expect(config.signing.key.type).toBe("private");
    expect(config.purge).toEqual({ mode: "service", secret: env.PURGE_SECRET });
    expect(config.adminKeys.kind).toBe("secret");
    expect(config.buildVersion).toBe("1.2.3");
  });

  it.each([
    ["SIGNING_KEYS missing", { SIGNING_KEYS: undefined }, /SIGNING_KEYS is not set/],
    ["SIGNING_KEYS not JSON", { SIGNING_KEYS: "[" }, /SIGNING_KEYS is not valid JSON/],
    ["SIGNING_KEYS empty", { SIGNING_KEYS: "[]" }, /non-empty/],
    [
      "a public key in TOKEN_KEYS",
      { TOKEN_KEYS: '[{"kty":"OKP","crv":"Ed25519","x":"AA","kid":"k"}]' },
      /TOKEN_KEYS\[0\]/,
    ],
    ["PUBLIC_JWKS without keys", { PUBLIC_JWKS: "{}" }, /PUBLIC_JWKS/],
    ["a short admin secret", { ADMIN_JWT_SECRET: "short" }, /at least 32 bytes/],
    ["an unknown purge mode", { PURGE_MODE: "carrier-pigeon" }, /PURGE_MODE/],
    ["zone mode without a zone", { PURGE_MODE: "zone", PURGE_API_TOKEN: "t" }, /PURGE_ZONE_ID/],
    ["service mode without EDGE", { EDGE: undefined }, /EDGE/],
    ["an http JWKS URL", { ADMIN_JWKS_URL: "http://idp.example/jwks" }, /https/],
  ])("fails with a clear reason for %s", async (_, overrides, reason) => {
    await expect(parseOriginConfig(envWith(overrides))).rejects.toThrow(reason);
  });

  it("refuses a signing key the public JWKS does not list (clients could not verify)", async () => {
    const other = testSecrets();
    await expect(parseOriginConfig(envWith({ SIGNING_KEYS: other.SIGNING_KEYS }))).rejects.toThrow(
      /not in PUBLIC_JWKS as a snapshot key/,
    );
  });

  it("refuses a PUBLIC_JWKS that contains a private key", async () => {
    const env = envWith();
    const withPrivate = JSON.stringify({ keys: JSON.parse(env.SIGNING_KEYS) });
    await expect(parseOriginConfig(envWith({ ...env, PUBLIC_JWKS: withPrivate }))).rejects.toThrow(/private/);
  });

  it("configures zone purges with the default API base", async () => {
    const config = await parseOriginConfig(
      envWith({ PURGE_MODE: "zone", PURGE_ZONE_ID: "abc123", PURGE_API_TOKEN: "t" }),
    );
    expect(config.purge).toEqual({
      mode: "zone",
      zoneId: "abc123",
      apiToken: "t",
      apiBase: "https://api.cloudflare.com/client/v4",
    });
  });
});
