/**
 * Attacks on admin tokens (DESIGN §5) against the real origin: unsigned and algorithm-confused
 * tokens, HMAC keys an attacker could know (the public keys, the JWKS, the purge secret), the
 * origin's own Ed25519 keys, wrong audience, expired, not-yet-valid and exp-less tokens, tampered
 * claims and signatures, oversized tokens (all 401), and scope escalation (403). Nothing may
 * change, and no secret, private key or token may appear in a log line or a response body.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ADMIN_AUDIENCE, type Jwks, type PrivateJwk, READ_AUDIENCE, utf8Bytes } from "../../core";
import { captureConsole } from "../support/console-capture";
import {
  type Attack,
  eddsa,
  flipSignature,
  fromBase64UrlBytes,
  hmac,
  nowSeconds,
  rawHs256,
  swapPayload,
  unsigned,
} from "../support/token-forge";
import { stateOf } from "./reliability-support";
import { adminSecret, adminToken, call, freshNamespace, originEnv, publishOk } from "./support/origin";

const victim = freshNamespace("victim");
const other = freshNamespace("other");
const key = `${victim}/app`;

const snapshotJwk = (): PrivateJwk => (JSON.parse(originEnv.SIGNING_KEYS) as PrivateJwk[])[0] as PrivateJwk;
const tokenJwk = (): PrivateJwk => (JSON.parse(originEnv.TOKEN_KEYS) as PrivateJwk[])[0] as PrivateJwk;
const secret = () => utf8Bytes(adminSecret());
const admin = (extra: Record<string, unknown> = {}) => ({
  aud: ADMIN_AUDIENCE,
  sub: "mallory",
  scope: "admin",
  iat: nowSeconds(),
  exp: nowSeconds() + 600,
  ...extra,
});

/** Tokens that must be refused with 401 on every admin route. */
const ATTACKS: Attack[] = [
  { name: "alg none", token: async () => unsigned({ alg: "none", typ: "JWT" }, admin()) },
  { name: "alg None", token: async () => unsigned({ alg: "None" }, admin()) },
  { name: "alg none with a signature part", token: async () => unsigned({ alg: "none" }, admin(), "c2ln") },
  {
    name: "HS256 keyed with the snapshot key's x (text)",
    token: () => hmac("HS256", utf8Bytes(snapshotJwk().x), admin()),
  },
  {
    name: "HS256 keyed with the snapshot key's x (bytes)",
    token: () => hmac("HS256", fromBase64UrlBytes(snapshotJwk().x), admin()),
  },
  {
    name: "HS256 keyed with the read-token key's x",
    token: () => hmac("HS256", utf8Bytes(tokenJwk().x), admin()),
  },
  {
    name: "HS256 keyed with the public JWKS",
    token: () => hmac("HS256", utf8Bytes(originEnv.PUBLIC_JWKS), admin()),
  },
  {
    name: "HS256 keyed with the purge secret",
    token: () => hmac("HS256", utf8Bytes(originEnv.PURGE_SECRET), admin()),
  },
  {
    name: "HS256 keyed with another secret",
    token: () => hmac("HS256", crypto.getRandomValues(new Uint8Array(32)), admin()),
  },
  { name: "HS384 with the right secret", token: () => hmac("HS384", secret(), admin()) },
  { name: "HS512 with the right secret", token: () => hmac("HS512", secret(), admin()) },
  { name: "EdDSA signed by the origin's read-token key", token: () => eddsa(tokenJwk(), admin()) },
  { name: "EdDSA signed by the origin's snapshot key", token: () => eddsa(snapshotJwk(), admin()) },
  { name: "a read token's audience", token: () => hmac("HS256", secret(), admin({ aud: READ_AUDIENCE })) },
  { name: "no audience", token: () => hmac("HS256", secret(), admin({ aud: undefined })) },
  {
    name: "an audience with a trailing space",
    token: () => hmac("HS256", secret(), admin({ aud: `${ADMIN_AUDIENCE} ` })),
  },
  { name: "expired a second ago", token: () => hmac("HS256", secret(), admin({ exp: nowSeconds() - 1 })) },
  {
    name: "expired an hour ago",
    token: () => hmac("HS256", secret(), admin({ iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 })),
  },
  { name: "nbf ten minutes ahead", token: () => hmac("HS256", secret(), admin({ nbf: nowSeconds() + 600 })) },
  { name: "no exp", token: () => hmac("HS256", secret(), admin({ exp: undefined })) },
  {
    name: "exp as a string",
    token: () => hmac("HS256", secret(), admin({ exp: String(nowSeconds() + 600) })),
  },
  {
    name: "an unknown crit header",
    token: () => rawHs256(secret(), { crit: ["x-fleetconf"], "x-fleetconf": 1 }, admin()),
  },
  {
    name: "a genuine publish token with its payload swapped to admin",
    token: async () => swapPayload(await adminToken(`publish:${other}`), admin()),
  },
  {
    name: "a genuine admin token with a flipped signature",
    token: async () => flipSignature(await adminToken("admin")),
  },
  {
    name: "a validly signed 5 KB token",
    token: () => hmac("HS256", secret(), admin({ pad: "p".repeat(5000) })),
  },
  { name: "a 64 KB token", token: async () => `${await adminToken("admin")}${"A".repeat(64 * 1024)}` },
  { name: "the JWS JSON serialisation", token: async () => JSON.stringify({ payload: "x", signatures: [] }) },
];

interface Route {
  method: string;
  path: string;
  json?: unknown;
  body?: string;
}
const ROUTES: Route[] = [
  { method: "PUT", path: `/v1/configs/${key}`, body: '{"pwned": true}' },
  { method: "GET", path: `/v1/configs/${key}` },
  { method: "POST", path: `/v1/configs/${key}/-/rollback`, json: { to: 1 } },
  { method: "DELETE", path: `/v1/configs/${key}` },
  { method: "PUT", path: `/v1/namespaces/${victim}`, json: { visibility: "public" } },
  { method: "POST", path: "/v1/tokens", json: { scope: `read:${victim}` } },
  { method: "GET", path: `/v1/audit?namespace=${victim}` },
  { method: "GET", path: `/v1/configs/${key}/-/versions` },
  { method: "GET", path: `/v1/configs/${key}/-/rollout` },
  { method: "PATCH", path: `/v1/configs/${key}/-/rollout`, json: { percent: 100 } },
  { method: "POST", path: `/v1/configs/${key}/-/rollout/abort` },
  { method: "GET", path: `/v1/configs/${key}/-/diff?from=1&to=current` },
  { method: "GET", path: `/v1/configs/${key}/-/fleet` },
  { method: "PUT", path: `/v1/schemas/${key}`, body: "true" },
  { method: "DELETE", path: `/v1/schemas/${key}` },
  { method: "GET", path: "/v1/status" },
];

function send(route: Route, authorization: string | null, extra: Record<string, string> = {}) {
  return call(route.method, route.path, {
    token: null,
    headers: {
      ...(authorization === null ? {} : { Authorization: authorization }),
      ...(route.body === undefined ? {} : { "Content-Type": "application/json" }),
      ...extra,
    },
    ...(route.json === undefined ? {} : { json: route.json }),
    ...(route.body === undefined ? {} : { body: route.body }),
  });
}

// Everything secret this suite handles, and every response body and log line it sees.
const tokensUsed = new Set<string>();
const bodies: string[] = [];
const logged: string[] = [];
const counts = { attacks: 0, escalations: 0 };
let before: Awaited<ReturnType<typeof stateOf>>[] = [];

beforeAll(async () => {
  await publishOk(key, { genuine: true });
  await publishOk(`${other}/app`, { other: true });
  before = [await stateOf(victim), await stateOf(other)];
  captureConsole(logged);
});

afterAll(() => {
  vi.restoreAllMocks();
});

async function expectRefused(res: Response, status: 401 | 403): Promise<void> {
  const text = await res.text();
  bodies.push(text);
  expect(res.status).toBe(status);
  expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  expect(res.headers.get("WWW-Authenticate")).toMatch(/^Bearer realm="fleetconf"/);
  expect(JSON.parse(text)).toMatchObject({ status, code: status === 401 ? "unauthorized" : "forbidden" });
}

describe("controls: the forging helpers make tokens the origin accepts when nothing is wrong", () => {
  it("accepts an HS256 token forged with the real secret, by jose or by hand", async () => {
    for (const token of [await hmac("HS256", secret(), admin()), await rawHs256(secret(), {}, admin())]) {
      const res = await send(ROUTES[1] as Route, `Bearer ${token}`);
      expect(res.status).toBe(200);
      await res.body?.cancel();
    }
  });
});

describe.each(ATTACKS)("an admin token with $name", (attack) => {
  it("is refused with 401 on every admin route", { timeout: 60_000 }, async () => {
    const token = await attack.token();
    tokensUsed.add(token);
    for (const route of ROUTES) {
      await expectRefused(await send(route, `Bearer ${token}`), 401);
      counts.attacks++;
    }
  });
});

describe("tokens sent the wrong way", () => {
  it("ignores a token in the query string, a cookie or a second Authorization scheme (401)", async () => {
    const token = await adminToken("admin");
    tokensUsed.add(token);
    const route = ROUTES[0] as Route;
    await expectRefused(await send({ ...route, path: `${route.path}?access_token=${token}` }, null), 401);
    await expectRefused(await send(route, null, { Cookie: `token=${token}` }), 401);
    await expectRefused(await send(route, `Basic ${btoa(`admin:${token}`)}`), 401);
    await expectRefused(await send(route, `Bearer ${token}, Bearer ${token}`), 401);
    await expectRefused(await send(route, "Bearer "), 401);
    counts.attacks += 5;
  });
});

/** [scope, route, why] — a genuine token whose scope does not cover the action: 403. */
const ESCALATIONS: [string, Route][] = [
  [`publish:${other}`, { method: "PUT", path: `/v1/configs/${key}`, body: "{}" }],
  [`publish:${other}`, { method: "POST", path: `/v1/configs/${key}/-/rollback`, json: { to: 1 } }],
  [`publish:${other}`, { method: "DELETE", path: `/v1/configs/${key}` }],
  [`publish:${other}`, { method: "POST", path: "/v1/tokens", json: { scope: `read:${victim}` } }],
  [`publish:${other}`, { method: "GET", path: `/v1/audit?namespace=${victim}` }],
  [`read:${victim}`, { method: "PUT", path: `/v1/configs/${key}`, body: "{}" }],
  [`read:${victim}`, { method: "POST", path: `/v1/configs/${key}/-/rollback`, json: { to: 1 } }],
  [`read:${victim}`, { method: "DELETE", path: `/v1/configs/${key}` }],
  [`read:${victim}`, { method: "POST", path: "/v1/tokens", json: { scope: "read:*" } }],
  [`read:${victim}`, { method: "GET", path: `/v1/audit?namespace=${victim}` }],
  [`publish:${victim}`, { method: "PUT", path: `/v1/namespaces/${victim}`, json: { visibility: "public" } }],
  [`publish:${victim}`, { method: "POST", path: "/v1/tokens", json: { scope: "read:*" } }],
  [`publish:${victim}`, { method: "POST", path: "/v1/tokens", json: { scope: `read:${other}` } }],
  [`publish:${victim}`, { method: "GET", path: "/v1/audit" }],
  [`read:${victim}`, { method: "PATCH", path: `/v1/configs/${key}/-/rollout`, json: { percent: 100 } }],
  [`read:${victim}`, { method: "PUT", path: `/v1/schemas/${key}`, body: "true" }],
  [`read:${victim}`, { method: "PUT", path: `/v1/configs/${key}`, body: "{}" }],
  [`publish:${victim}`, { method: "GET", path: "/v1/status" }],
  [`publish:${other}`, { method: "GET", path: `/v1/configs/${key}/-/diff?from=1&to=current` }],
  [`publish:${other}`, { method: "GET", path: `/v1/status?namespace=${victim}` }],
  ["read:*", { method: "PUT", path: `/v1/configs/${key}`, body: "{}" }],
  ["publish:*", { method: "PUT", path: `/v1/configs/${key}`, body: "{}" }],
  ["administrator", { method: "PUT", path: `/v1/configs/${key}`, body: "{}" }],
  ["Admin", { method: "PUT", path: `/v1/configs/${key}`, body: "{}" }],
  [`admin:${victim}`, { method: "PUT", path: `/v1/configs/${key}`, body: "{}" }],
  [`publish:${victim}/app`, { method: "PUT", path: `/v1/configs/${key}`, body: "{}" }],
  [
    `publish:${victim}\tadmin`,
    { method: "PUT", path: `/v1/namespaces/${victim}`, json: { visibility: "public" } },
  ],
  [`publish:${victim.toUpperCase()}`, { method: "PUT", path: `/v1/configs/${key}`, body: "{}" }],
  ["", { method: "PUT", path: `/v1/configs/${key}`, body: "{}" }],
];

describe("scope escalation", () => {
  it.each(ESCALATIONS)("a %s token is refused 403 for %o", async (scope, route) => {
    const token = await adminToken(scope);
    tokensUsed.add(token);
    await expectRefused(await send(route, `Bearer ${token}`), 403);
    counts.escalations++;
  });

  it("refuses a scope that is not a string (an array holding admin) with 403", async () => {
    const token = await hmac("HS256", secret(), admin({ scope: ["admin"] }));
    tokensUsed.add(token);
    await expectRefused(await send(ROUTES[0] as Route, `Bearer ${token}`), 403);
    counts.escalations++;
  });

  it("refuses a scope under another claim name (scp) with 403", async () => {
    const token = await hmac("HS256", secret(), admin({ scope: undefined, scp: "admin" }));
    tokensUsed.add(token);
    await expectRefused(await send(ROUTES[0] as Route, `Bearer ${token}`), 403);
    counts.escalations++;
  });
});

describe("after every attack", () => {
  it("nothing changed in either namespace", async () => {
    expect([await stateOf(victim), await stateOf(other)]).toEqual(before);
    console.log(JSON.stringify({ suite: "token-attacks (origin)", ...counts, tokens: tokensUsed.size }));
  });

  it("no secret, private key or token appears in any log line or response body", () => {
    const jwks = JSON.parse(originEnv.SIGNING_KEYS) as PrivateJwk[];
    const secrets = [
      adminSecret(),
      originEnv.PURGE_SECRET,
      ...jwks.map((k) => k.d),
      ...(JSON.parse(originEnv.TOKEN_KEYS) as PrivateJwk[]).map((k) => k.d),
    ];
    // A token's signature alone is enough to replay it; look for that too.
    const needles = [
      ...secrets,
      ...[...tokensUsed].flatMap((t) => [t, t.split(".")[2] ?? ""]).filter((n) => n.length >= 16),
    ];
    expect(logged.length).toBeGreaterThan(counts.attacks);
    const haystacks = [...logged, ...bodies];
    for (const needle of needles) {
      const hit = haystacks.find((line) => line.includes(needle));
      expect(hit, `a secret leaked into: ${hit?.slice(0, 200)}`).toBeUndefined();
    }
    // The public JWKS is public, but the private halves must never be served or logged.
    expect((JSON.parse(originEnv.PUBLIC_JWKS) as Jwks).keys.some((k) => "d" in k)).toBe(false);
  });
});
