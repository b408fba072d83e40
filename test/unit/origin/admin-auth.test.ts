/**
 * adminAuth with ADMIN_JWKS_URL (an OIDC issuer's keys), against a local node:http server that
 * serves a real JWKS: tokens from the issuer pass, others fail with 401, scopes give 403.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Hono } from "hono";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { problemErrorHandler } from "../../../core";
import type { OriginApp, Services } from "../../../origin/app-env";
import { adminKeySourceFrom, type OriginConfig } from "../../../origin/config";
import { adminAuth, requireScope } from "../../../origin/middleware/admin-auth";

let server: Server;
let jwksUrl: string;
let issuerKey: CryptoKey;
let strangerKey: CryptoKey;
let jwksRequests = 0;

beforeAll(async () => {
  const issuer = await generateKeyPair("ES256");
  issuerKey = issuer.privateKey;
  strangerKey = (await generateKeyPair("ES256")).privateKey;
  const jwk = { ...(await exportJWK(issuer.publicKey)), kid: "idp-1", alg: "ES256", use: "sig" };
  server = createServer((_, res) => {
    jwksRequests++;
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function app(): Hono<OriginApp> {
  const config = {
    adminKeys: adminKeySourceFrom({ ADMIN_JWKS_URL: jwksUrl, ADMIN_ISSUER: "https://idp.test" }),
  };
  const services = {
    config: config as OriginConfig,
    store: () => {
      throw new Error("unused");
    },
  } as Services;
  const a = new Hono<OriginApp>();
  a.use("*", async (c, next) => {
    c.set("services", services);
    c.set("logFields", {});
    await next();
  });
  a.use("*", adminAuth());
  a.get("/ns/:ns", (c) => {
    requireScope(c, { action: "publish", namespace: c.req.param("ns") });
    return c.json({ sub: c.get("caller").sub });
  });
  a.onError(problemErrorHandler("origin"));
  return a;
}

async function token(
  key: CryptoKey,
  claims: { iss?: string; aud?: string; scope?: string; kid?: string } = {},
): Promise<string> {
  return new SignJWT({ scope: claims.scope ?? "publish:pay" })
    .setProtectedHeader({ alg: "ES256", kid: claims.kid ?? "idp-1" })
    .setIssuer(claims.iss ?? "https://idp.test")
    .setAudience(claims.aud ?? "fleetconf-admin")
    .setSubject("alice@example.com")
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(key);
}

const get = (path: string, bearer: string) =>
  app().request(path, { headers: { Authorization: `Bearer ${bearer}` } });

describe("adminAuth with ADMIN_JWKS_URL", () => {
  it("accepts a token signed by the issuer's key, fetched from its JWKS", async () => {
    const res = await get("/ns/pay", await token(issuerKey));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: "alice@example.com" });
    expect(jwksRequests).toBeGreaterThan(0);
  });

  it("answers 403 when the scope does not cover the namespace", async () => {
    expect((await get("/ns/other", await token(issuerKey))).status).toBe(403);
  });

  it.each([
    ["a key not in the JWKS", () => token(strangerKey)],
    ["another issuer", () => token(issuerKey, { iss: "https://evil.test" })],
    ["the read audience", () => token(issuerKey, { aud: "fleetconf-read" })],
  ])("answers 401 for a token signed with %s", async (_, make) => {
    const res = await get("/ns/pay", await make());
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toContain("Bearer");
  });

  it("does not accept HS256 tokens in JWKS mode (no algorithm confusion)", async () => {
    const hs = await new SignJWT({ scope: "admin" })
      .setProtectedHeader({ alg: "HS256" })
      .setAudience("fleetconf-admin")
      .setIssuer("https://idp.test")
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode("x".repeat(32)));
    expect((await get("/ns/pay", hs)).status).toBe(401);
  });
});
