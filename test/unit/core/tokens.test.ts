import { SignJWT, UnsecuredJWT } from "jose";
import { describe, expect, it } from "vitest";
import {
  ADMIN_AUDIENCE,
  bearerToken,
  FleetconfError,
  generateSigningJwk,
  localReadTokenKeys,
  MAX_TOKEN_LENGTH,
  mintAdminToken,
  mintReadToken,
  publicPart,
  READ_AUDIENCE,
  scopeCovers,
  utf8Bytes,
  verifyAdminToken,
  verifyReadToken,
} from "../../../core";

const secret = "test-secret-0123456789abcdef0123456789";
const source = { kind: "secret", secret } as const;

async function expectUnauthorized(promise: Promise<unknown>) {
  await expect(promise).rejects.toSatisfy(
    (e: unknown) => e instanceof FleetconfError && e.code === "unauthorized",
  );
}

describe("admin tokens", () => {
  it("verifies a minted token and returns its scopes", async () => {
    const token = await mintAdminToken(secret, { scope: "publish:a read:b", ttlSeconds: 60, sub: "ci" });
    expect(await verifyAdminToken(token, source)).toMatchObject({
      sub: "ci",
      scopes: ["publish:a", "read:b"],
    });
  });

  it("refuses another secret, an expired token, and a token without exp", async () => {
    await expectUnauthorized(
      verifyAdminToken(
        await mintAdminToken("other-secret-xxxxxxxxxxxxxxxxxxxxxxx", {
          scope: "admin",
          ttlSeconds: 60,
          sub: "x",
        }),
        source,
      ),
    );
    await expectUnauthorized(
      verifyAdminToken(
        await mintAdminToken(secret, { scope: "admin", ttlSeconds: 60, sub: "x", nowSeconds: 1000 }),
        source,
      ),
    );
    const noExp = await new SignJWT({ scope: "admin" })
      .setProtectedHeader({ alg: "HS256" })
      .setAudience(ADMIN_AUDIENCE)
      .sign(utf8Bytes(secret));
    await expectUnauthorized(verifyAdminToken(noExp, source));
  });

  it("refuses alg none, the wrong audience, and nbf in the future", async () => {
    const none = new UnsecuredJWT({ scope: "admin" })
      .setAudience(ADMIN_AUDIENCE)
      .setExpirationTime("1h")
      .encode();
    await expectUnauthorized(verifyAdminToken(none, source));
    const wrongAud = await new SignJWT({ scope: "admin" })
      .setProtectedHeader({ alg: "HS256" })
      .setAudience(READ_AUDIENCE)
      .setExpirationTime("1h")
      .sign(utf8Bytes(secret));
    await expectUnauthorized(verifyAdminToken(wrongAud, source));
    const future = await new SignJWT({ scope: "admin" })
      .setProtectedHeader({ alg: "HS256" })
      .setAudience(ADMIN_AUDIENCE)
      .setNotBefore("1h")
      .setExpirationTime("2h")
      .sign(utf8Bytes(secret));
    await expectUnauthorized(verifyAdminToken(future, source));
  });

  it("refuses an HS384 token even with the right secret (alg allow-list)", async () => {
    const token = await new SignJWT({ scope: "admin" })
      .setProtectedHeader({ alg: "HS384" })
      .setAudience(ADMIN_AUDIENCE)
      .setExpirationTime("1h")
      .sign(utf8Bytes(secret));
    await expectUnauthorized(verifyAdminToken(token, source));
  });
});

describe("read tokens", () => {
  it("verifies with the public JWKS only", async () => {
    const jwk = await generateSigningJwk("read-token");
    const token = await mintReadToken(jwk, { scope: "read:payments", ttlSeconds: 60, sub: "svc" });
    const keys = localReadTokenKeys({ keys: [publicPart(jwk)] });
    expect(await verifyReadToken(token, keys)).toMatchObject({ scopes: ["read:payments"] });
  });

  it("refuses algorithm confusion: an HS256 token keyed with the public key", async () => {
    const jwk = await generateSigningJwk("read-token");
    const forged = await new SignJWT({ scope: "read:*" })
      .setProtectedHeader({ alg: "HS256", kid: jwk.kid })
      .setAudience(READ_AUDIENCE)
      .setExpirationTime("1h")
      .sign(utf8Bytes(jwk.x));
    await expectUnauthorized(verifyReadToken(forged, localReadTokenKeys({ keys: [publicPart(jwk)] })));
  });

  it("refuses a token signed by a snapshot key", async () => {
    const snapshotKey = await generateSigningJwk("snapshot");
    const token = await mintReadToken(snapshotKey, { scope: "read:a", ttlSeconds: 60, sub: "x" });
    await expectUnauthorized(verifyReadToken(token, localReadTokenKeys({ keys: [publicPart(snapshotKey)] })));
  });
});

describe("bearerToken", () => {
  it("extracts the token", () => {
    expect(bearerToken("Bearer abc.def.ghi")).toBe("abc.def.ghi");
  });
  it.each([null, "", "Basic abc", "Bearer", "Bearer a b", `Bearer ${"a".repeat(MAX_TOKEN_LENGTH + 1)}`])(
    "refuses %j",
    (header) => {
      expect(() => bearerToken(header)).toThrowError(FleetconfError);
    },
  );
});

describe("scopeCovers", () => {
  it("lets admin do anything and publish:{ns} read its namespace", () => {
    expect(scopeCovers(["admin"], { action: "admin" })).toBe(true);
    expect(scopeCovers(["publish:a"], { action: "read", namespace: "a" })).toBe(true);
    expect(scopeCovers(["read:*"], { action: "read", namespace: "zzz" })).toBe(true);
  });
  it("refuses escalation", () => {
    expect(scopeCovers(["publish:a"], { action: "publish", namespace: "b" })).toBe(false);
    expect(scopeCovers(["read:a"], { action: "publish", namespace: "a" })).toBe(false);
    expect(scopeCovers(["read:*"], { action: "publish", namespace: "a" })).toBe(false);
    expect(scopeCovers(["publish:a"], { action: "admin" })).toBe(false);
  });
});
