/**
 * The same authentication and authorisation checks over every admin route (DESIGN §5): a missing
 * or invalid token is 401 with WWW-Authenticate, a valid token without the scope is 403, and a
 * refused request changes nothing.
 */
import { SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { toBase64Url, utf8Bytes } from "../../core";
import { adminSecret, adminToken, call, freshNamespace, problemOf, publishOk } from "./support/origin";

const ns = freshNamespace("auth");
const key = `${ns}/app`;

interface Route {
  name: string;
  method: string;
  path: string;
  json?: unknown;
  body?: string;
  /** Needs publish (or admin): a read scope of the same namespace is 403. */
  write?: boolean;
}

const routes: Route[] = [
  { name: "publish", method: "PUT", path: `/v1/configs/${key}`, body: '{"x": 1}', write: true },
  { name: "read current", method: "GET", path: `/v1/configs/${key}` },
  { name: "list versions", method: "GET", path: `/v1/configs/${key}/-/versions` },
  { name: "read one version", method: "GET", path: `/v1/configs/${key}/-/versions/1` },
  { name: "rollback", method: "POST", path: `/v1/configs/${key}/-/rollback`, json: { to: 1 }, write: true },
  {
    name: "rollback (old spelling)",
    method: "POST",
    path: `/v1/configs/${key}/rollback`,
    json: { to: 1 },
    write: true,
  },
  { name: "delete", method: "DELETE", path: `/v1/configs/${key}`, write: true },
  { name: "read rollout", method: "GET", path: `/v1/configs/${key}/-/rollout` },
  {
    name: "hold rollout",
    method: "PATCH",
    path: `/v1/configs/${key}/-/rollout`,
    json: { percent: 50 },
    write: true,
  },
  {
    name: "hold rollout (old spelling)",
    method: "PATCH",
    path: `/v1/configs/${key}/rollout`,
    json: { percent: 50 },
    write: true,
  },
  { name: "complete rollout", method: "POST", path: `/v1/configs/${key}/-/rollout/complete`, write: true },
  { name: "abort rollout", method: "POST", path: `/v1/configs/${key}/-/rollout/abort`, write: true },
  {
    name: "abort rollout (old spelling)",
    method: "POST",
    path: `/v1/configs/${key}/rollout/abort`,
    write: true,
  },
  { name: "diff", method: "GET", path: `/v1/configs/${key}/-/diff?from=1&to=current` },
  { name: "fleet view", method: "GET", path: `/v1/configs/${key}/-/fleet` },
  { name: "read schema", method: "GET", path: `/v1/schemas/${key}` },
  { name: "set schema", method: "PUT", path: `/v1/schemas/${key}`, body: '{"type": "object"}', write: true },
  { name: "status of a namespace", method: "GET", path: `/v1/status?namespace=${ns}` },
  { name: "update namespace", method: "PUT", path: `/v1/namespaces/${ns}`, json: { visibility: "public" } },
  { name: "read namespace", method: "GET", path: `/v1/namespaces/${ns}` },
  { name: "mint token", method: "POST", path: "/v1/tokens", json: { scope: `read:${ns}` } },
  { name: "read audit", method: "GET", path: `/v1/audit?namespace=${ns}` },
];

function unsignedToken(): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: unknown) => toBase64Url(utf8Bytes(JSON.stringify(value)));
  return `${part({ alg: "none", typ: "JWT" })}.${part({ aud: "fleetconf-admin", scope: "admin", sub: "x", exp: now + 600 })}.`;
}

async function hs256(claims: Record<string, unknown>, options: { exp?: boolean; secret?: string } = {}) {
  const now = Math.floor(Date.now() / 1000);
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setIssuedAt(now).setSubject("mallory");
  if (options.exp !== false) jwt = jwt.setExpirationTime(now + 600);
  return jwt.sign(utf8Bytes(options.secret ?? adminSecret()));
}

const badTokens: [string, () => Promise<string | null>][] = [
  ["no token", async () => null],
  ["a malformed token", async () => "not-a-jwt"],
  [
    "an expired token",
    () => adminToken("admin", { nowSeconds: Math.floor(Date.now() / 1000) - 3600, ttlSeconds: 60 }),
  ],
  ["a token for the read audience", () => hs256({ aud: "fleetconf-read", scope: "admin" })],
  ["a token with alg none", async () => unsignedToken()],
  [
    "a token signed with another secret",
    () => hs256({ aud: "fleetconf-admin", scope: "admin" }, { secret: "x".repeat(43) }),
  ],
  ["a token without exp", () => hs256({ aud: "fleetconf-admin", scope: "admin" }, { exp: false })],
];

async function send(route: Route, token: string | null, extraHeaders: Record<string, string> = {}) {
  return call(route.method, route.path, {
    token,
    ...(route.json === undefined ? {} : { json: route.json }),
    ...(route.body === undefined ? {} : { body: route.body }),
    headers: { ...(route.body === undefined ? {} : { "Content-Type": "application/json" }), ...extraHeaders },
  });
}

beforeAll(async () => {
  await publishOk(key, { original: true });
});

describe.each(routes)("$name ($method $path)", (route) => {
  it.each(badTokens)("answers 401 with WWW-Authenticate for %s", async (_, makeToken) => {
    const res = await send(route, await makeToken());
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toMatch(/^Bearer /);
    expect((await problemOf(res)).code).toBe("unauthorized");
  });

  it("answers 401 for a Basic Authorization header", async () => {
    const res = await call(route.method, route.path, {
      token: null,
      headers: { Authorization: "Basic dXNlcjpwYXNz" },
    });
    expect(res.status).toBe(401);
  });

  it("answers 403 for a valid token whose scope covers another namespace", async () => {
    const res = await send(route, await adminToken("read:elsewhere publish:elsewhere"));
    expect(res.status).toBe(403);
    expect((await problemOf(res)).code).toBe("forbidden");
  });
});

describe.each(routes.filter((route) => route.write))("$name with only a read scope", (route) => {
  it("answers 403 for read:{ns} on a write route", async () => {
    const res = await send(route, await adminToken(`read:${ns}`));
    expect(res.status).toBe(403);
    expect((await problemOf(res)).code).toBe("forbidden");
  });
});

describe("after every refused request", () => {
  it("the key still has only its first version, live", async () => {
    const res = await call("GET", `/v1/configs/${key}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Config-Version")).toBe("1");
    expect(await res.json()).toEqual({ original: true });
    const settings = (await (await call("GET", `/v1/namespaces/${ns}`)).json()) as { visibility: string };
    expect(settings.visibility).toBe("private");
  });
});
