import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import {
  generateSigningJwk,
  type Jwks,
  mintAdminToken,
  type PrivateJwk,
  READ_AUDIENCE,
  toBase64Url,
  utf8Bytes,
} from "../../core";
import { ReadTokenGate, VerifiedTokens } from "../../worker/auth/read-token-gate";
import {
  publishFixture,
  putNamespaceSettings,
  readTokenFor,
  signingKeyOf,
  tokenKeyOf,
  uniqueNamespace,
} from "../support/snapshot-fixture";
import { eddsa, nowSeconds } from "../support/token-forge";
import { bearer, edge, env } from "./harness";

async function privateKey(settings = {}) {
  const namespace = uniqueNamespace();
  if (Object.keys(settings).length > 0) await putNamespaceSettings(env, namespace, settings);
  const key = `${namespace}/svc/secret`;
  await publishFixture(env, { key, content: { secret: true } });
  return { namespace, key };
}

const tokenKey = (): PrivateJwk => tokenKeyOf(env);
const snapshotKey = (): PrivateJwk => signingKeyOf(env);
const signWith = (jwk: PrivateJwk, claims: Record<string, unknown>, kid = jwk.kid): Promise<string> =>
  eddsa(jwk, claims, { kid });

async function expect401(res: Response): Promise<void> {
  expect(res.status).toBe(401);
  expect(res.headers.get("WWW-Authenticate")).toContain("Bearer");
  expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  expect(await res.json()).toMatchObject({ code: "unauthorized", status: 401 });
}

describe("private namespaces need a read token", () => {
  it("serves a private config to a token scoped to its namespace, with private caching", async () => {
    const { namespace, key } = await privateKey();
    const res = await edge().fetch(
      `/v1/configs/${key}`,
      bearer(await readTokenFor(env, `read:${namespace}`)),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ secret: true });
    expect(res.headers.get("Cache-Control")).toBe(
      "private, max-age=5, stale-while-revalidate=30, stale-if-error=86400",
    );
    expect(res.headers.get("Vary")).toBe("Authorization");
  });

  it("serves any namespace to a read:* token", async () => {
    const { key } = await privateKey({ visibility: "private" });
    const res = await edge().fetch(`/v1/configs/${key}`, bearer(await readTokenFor(env, "read:*")));
    expect(res.status).toBe(200);
  });

  it("answers 401 without a token", async () => {
    const { key } = await privateKey();
    await expect401(await edge().fetch(`/v1/configs/${key}`));
  });

  it("answers 401 for a malformed or non-Bearer Authorization header", async () => {
    const { key } = await privateKey();
    const app = edge();
    for (const authorization of [
      "Basic dXNlcjpwYXNz",
      "Bearer",
      "Bearer a b",
      "garbage",
      `Bearer ${"a".repeat(5000)}`,
    ]) {
      await expect401(await app.fetch(`/v1/configs/${key}`, { headers: { Authorization: authorization } }));
    }
  });

  it("answers 401 for a token that is not a JWT", async () => {
    const { key } = await privateKey();
    await expect401(await edge().fetch(`/v1/configs/${key}`, bearer("not.a.jwt")));
  });

  it("answers 401 for an expired token", async () => {
    const { namespace, key } = await privateKey();
    const token = await readTokenFor(env, `read:${namespace}`, {
      nowSeconds: nowSeconds() - 7200,
      ttlSeconds: 3600,
    });
    await expect401(await edge().fetch(`/v1/configs/${key}`, bearer(token)));
  });

  it("answers 401 once a remembered token expires", async () => {
    const { namespace, key } = await privateKey();
    const app = edge();
    const token = await readTokenFor(env, `read:${namespace}`, {
      nowSeconds: Math.floor(app.clock.ms / 1000),
      ttlSeconds: 60,
    });
    expect((await app.fetch(`/v1/configs/${key}`, bearer(token))).status).toBe(200);
    app.clock.advance(30);
    expect((await app.fetch(`/v1/configs/${key}`, bearer(token))).status).toBe(200);
    app.clock.advance(31);
    await expect401(await app.fetch(`/v1/configs/${key}`, bearer(token)));
  });

  it("answers 403 for a valid token scoped to another namespace", async () => {
    const { key } = await privateKey();
    const res = await edge().fetch(`/v1/configs/${key}`, bearer(await readTokenFor(env, "read:someoneelse")));
    expect(res.status).toBe(403);
    expect(res.headers.get("WWW-Authenticate")).toContain('error="insufficient_scope"');
    expect(await res.json()).toMatchObject({ code: "forbidden", status: 403 });
  });

  it("answers 401 for a token signed by a key outside the JWKS, even with a known kid", async () => {
    const { namespace, key } = await privateKey();
    const stranger = await generateSigningJwk("read-token");
    const token = await signWith(
      stranger,
      { aud: READ_AUDIENCE, scope: `read:${namespace}`, exp: nowSeconds() + 600 },
      tokenKey().kid,
    );
    await expect401(await edge().fetch(`/v1/configs/${key}`, bearer(token)));
  });

  it("answers 401 for a token signed by the snapshot key (wrong purpose)", async () => {
    const { namespace, key } = await privateKey();
    const token = await signWith(snapshotKey(), {
      aud: READ_AUDIENCE,
      scope: `read:${namespace}`,
      exp: nowSeconds() + 600,
    });
    await expect401(await edge().fetch(`/v1/configs/${key}`, bearer(token)));
  });

  it("answers 401 for a token without exp", async () => {
    const { namespace, key } = await privateKey();
    const token = await signWith(tokenKey(), { aud: READ_AUDIENCE, scope: `read:${namespace}` });
    await expect401(await edge().fetch(`/v1/configs/${key}`, bearer(token)));
  });

  it("answers 401 for an admin token (wrong audience and algorithm)", async () => {
    const { namespace, key } = await privateKey();
    const token = await mintAdminToken(env.ADMIN_JWT_SECRET, {
      scope: `admin read:${namespace}`,
      ttlSeconds: 600,
      sub: "a",
    });
    await expect401(await edge().fetch(`/v1/configs/${key}`, bearer(token)));
  });

  it("answers 401 for an unsigned alg=none token", async () => {
    const { namespace, key } = await privateKey();
    const part = (value: unknown) => toBase64Url(utf8Bytes(JSON.stringify(value)));
    const token = `${part({ alg: "none", typ: "JWT" })}.${part({ aud: READ_AUDIENCE, scope: `read:${namespace}`, exp: nowSeconds() + 600 })}.`;
    await expect401(await edge().fetch(`/v1/configs/${key}`, bearer(token)));
  });

  it("answers 401 for an HS256 token keyed with the public key (algorithm confusion)", async () => {
    const { namespace, key } = await privateKey();
    const jwks = JSON.parse(env.PUBLIC_JWKS) as Jwks;
    const readKey = jwks.keys.find((k) => k.purpose === "read-token");
    const claims = { aud: READ_AUDIENCE, scope: `read:${namespace}`, exp: nowSeconds() + 600 };
    for (const secret of [utf8Bytes(readKey?.x ?? ""), utf8Bytes(JSON.stringify(readKey))]) {
      const token = await new SignJWT(claims)
        .setProtectedHeader({ alg: "HS256", kid: readKey?.kid ?? "" })
        .sign(secret);
      await expect401(await edge().fetch(`/v1/configs/${key}`, bearer(token)));
    }
  });
});

describe("public namespaces", () => {
  it("serve without a token and ignore a token if one is sent", async () => {
    const { key } = await privateKey({ visibility: "public" });
    const app = edge();
    const open = await app.fetch(`/v1/configs/${key}`);
    expect(open.status).toBe(200);
    expect(open.headers.get("Cache-Control")).toMatch(/^public, /);
    expect(open.headers.get("Vary")).toBeNull();
    expect((await app.fetch(`/v1/configs/${key}`, bearer("expired.or.garbage"))).status).toBe(200);
  });
});

describe("ReadTokenGate", () => {
  it("verifies a token once and remembers it until exp", async () => {
    let now = Date.now();
    const gate = new ReadTokenGate(JSON.parse(env.PUBLIC_JWKS) as Jwks, () => now);
    const token = await readTokenFor(env, "read:a", { nowSeconds: Math.floor(now / 1000), ttlSeconds: 100 });
    for (let i = 0; i < 5; i++) expect((await gate.verify(`Bearer ${token}`)).scopes).toEqual(["read:a"]);
    expect(gate.remembered).toBe(1);
    now += 101_000;
    await expect(gate.verify(`Bearer ${token}`)).rejects.toMatchObject({ code: "unauthorized" });
    expect(gate.remembered).toBe(0);
  });

  it("never remembers more tokens than its capacity", () => {
    const tokens = new VerifiedTokens(3);
    for (let i = 0; i < 10; i++) tokens.remember(`t${i}`, { sub: "s", scopes: [], exp: 2e9 });
    expect(tokens.size).toBe(3);
    expect(tokens.get("t9", 1e9)).toBeDefined();
    expect(tokens.get("t0", 1e9)).toBeUndefined();
  });
});
