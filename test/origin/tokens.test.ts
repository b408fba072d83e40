import { decodeJwt, decodeProtectedHeader } from "jose";
import { describe, expect, it } from "vitest";
import { type Jwks, localReadTokenKeys, verifyAdminToken, verifyReadToken } from "../../core";
import { adminToken, call, freshNamespace, originEnv, problemOf } from "./support/origin";

const jwks = (): Jwks => JSON.parse(originEnv.PUBLIC_JWKS) as Jwks;

describe("POST /v1/tokens", () => {
  it("mints an EdDSA read token the edge can verify from the JWKS", async () => {
    const ns = freshNamespace();
    const res = await call("POST", "/v1/tokens", { json: { scope: `read:${ns}`, ttl: 3600 } });
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const body = (await res.json()) as { token: string; scope: string; expiresAt: string };
    expect(body.scope).toBe(`read:${ns}`);
    const verified = await verifyReadToken(body.token, localReadTokenKeys(jwks()));
    expect(verified.scopes).toEqual([`read:${ns}`]);
    expect(verified.sub).toBe("tester");
    const claims = decodeJwt(body.token);
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(3600);
    expect(new Date(body.expiresAt).getTime()).toBe((claims.exp ?? 0) * 1000);
    const signingKid = (JSON.parse(originEnv.TOKEN_KEYS) as { kid: string }[])[0]?.kid;
    expect(decodeProtectedHeader(body.token)).toMatchObject({ alg: "EdDSA", kid: signingKid });
  });

  it("defaults the ttl to one day", async () => {
    const res = await call("POST", "/v1/tokens", { json: { scope: `read:${freshNamespace()}` } });
    const claims = decodeJwt(((await res.json()) as { token: string }).token);
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(86_400);
  });

  it("is not an admin token: it fails admin verification", async () => {
    const res = await call("POST", "/v1/tokens", { json: { scope: "read:*" } });
    const { token } = (await res.json()) as { token: string };
    await expect(
      verifyAdminToken(token, { kind: "secret", secret: originEnv.ADMIN_JWT_SECRET ?? "" }),
    ).rejects.toMatchObject({ code: "unauthorized" });
  });

  it("lets a caller mint only read scopes it covers itself", async () => {
    const ns = freshNamespace();
    const publisher = await adminToken(`publish:${ns}`);
    expect(
      (await call("POST", "/v1/tokens", { json: { scope: `read:${ns}` }, token: publisher })).status,
    ).toBe(200);
    const reader = await adminToken(`read:${ns}`);
    expect((await call("POST", "/v1/tokens", { json: { scope: `read:${ns}` }, token: reader })).status).toBe(
      200,
    );
    const elsewhere = await call("POST", "/v1/tokens", { json: { scope: "read:other" }, token: publisher });
    expect(elsewhere.status).toBe(403);
    const wildcard = await call("POST", "/v1/tokens", { json: { scope: "read:*" }, token: publisher });
    expect(wildcard.status).toBe(403);
    expect((await problemOf(wildcard)).code).toBe("forbidden");
  });

  it.each([
    ["a publish scope", { scope: "publish:ns" }],
    ["admin", { scope: "admin" }],
    ["two scopes", { scope: "read:a read:b" }],
    ["a missing scope", { ttl: 600 }],
    ["a ttl under a minute", { scope: "read:ns", ttl: 59 }],
    ["a ttl over 30 days", { scope: "read:ns", ttl: 30 * 86400 + 1 }],
    ["a string ttl", { scope: "read:ns", ttl: "600" }],
    ["an unknown member", { scope: "read:ns", aud: "x" }],
  ])("answers 400 for %s", async (_, json) => {
    const res = await call("POST", "/v1/tokens", { json });
    expect(res.status).toBe(400);
    expect((await problemOf(res)).code).toBe("invalid_request");
  });

  it("answers 415 for a non-JSON body", async () => {
    const res = await call("POST", "/v1/tokens", {
      body: "scope=read:x",
      headers: { "Content-Type": "text/plain" },
    });
    expect(res.status).toBe(415);
  });
});
