/**
 * Attacks on read tokens at the edge (DESIGN §5): the edge verifies EdDSA read tokens from the
 * read-token keys of PUBLIC_JWKS alone, so it must refuse unsigned tokens, HMAC tokens keyed with
 * anything public or shared (algorithm confusion), tokens from the snapshot key or an embedded
 * key, admin tokens, wrong audiences, expired, not-yet-valid and exp-less tokens, tampered claims
 * and oversized tokens (401), and tokens for another namespace (403). A refused token never
 * poisons the verified-token memory, private answers stay private to shared caches, and no token
 * or secret appears in the edge's log lines or responses.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  generateSigningJwk,
  type Jwks,
  mintAdminToken,
  type PrivateJwk,
  publicPart,
  READ_AUDIENCE,
  utf8Bytes,
} from "../../core";
import { captureConsole } from "../support/console-capture";
import {
  publishFixture,
  readTokenFor,
  signingKeyOf,
  tokenKeyOf,
  uniqueNamespace,
} from "../support/snapshot-fixture";
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
import { bearer, edge, env } from "./harness";

const victim = uniqueNamespace("victim");
const key = `${victim}/svc/secret`;
const SECRET_CONTENT = "s3cr3t-config-value";

const tokenJwk = (): PrivateJwk => tokenKeyOf(env);
const snapshotJwk = (): PrivateJwk => signingKeyOf(env);
const read = (extra: Record<string, unknown> = {}) => ({
  aud: READ_AUDIENCE,
  sub: "mallory",
  scope: `read:${victim}`,
  iat: nowSeconds(),
  exp: nowSeconds() + 600,
  ...extra,
});

const ATTACKS: Attack[] = [
  { name: "alg none", token: async () => unsigned({ alg: "none", typ: "JWT" }, read()) },
  {
    name: "alg none with the read key's kid",
    token: async () => unsigned({ alg: "none", kid: tokenJwk().kid }, read()),
  },
  {
    name: "HS256 keyed with the read-token key's x (text)",
    token: () => hmac("HS256", utf8Bytes(tokenJwk().x), read(), { kid: tokenJwk().kid }),
  },
  {
    name: "HS256 keyed with the read-token key's x (bytes)",
    token: () => hmac("HS256", fromBase64UrlBytes(tokenJwk().x), read(), { kid: tokenJwk().kid }),
  },
  {
    name: "HS256 keyed with the public JWKS",
    token: () => hmac("HS256", utf8Bytes(env.PUBLIC_JWKS), read()),
  },
  {
    name: "HS256 keyed with the purge secret",
    token: () => hmac("HS256", utf8Bytes(env.PURGE_SECRET), read()),
  },
  {
    name: "an admin token (HS256, admin audience) with admin scope",
    token: () =>
      mintAdminToken(env.ADMIN_JWT_SECRET, { scope: `admin read:${victim}`, ttlSeconds: 600, sub: "m" }),
  },
  { name: "EdDSA signed by the snapshot key", token: () => eddsa(snapshotJwk(), read()) },
  {
    name: "EdDSA from a stranger's key under the read key's kid",
    token: async () => eddsa(await generateSigningJwk("read-token"), read(), { kid: tokenJwk().kid }),
  },
  {
    name: "EdDSA from a stranger's key embedded as a jwk header",
    token: async () => {
      const stranger = await generateSigningJwk("read-token");
      const { kty, crv, x } = publicPart(stranger);
      return eddsa(stranger, read(), { kid: undefined, jwk: { kty, crv, x } });
    },
  },
  {
    name: "EdDSA from a stranger's key with a jku header",
    token: async () =>
      eddsa(await generateSigningJwk("read-token"), read(), { jku: "https://evil.test/jwks.json" }),
  },
  { name: "the admin audience", token: () => eddsa(tokenJwk(), read({ aud: "fleetconf-admin" })) },
  { name: "no audience", token: () => eddsa(tokenJwk(), read({ aud: undefined })) },
  { name: "expired a second ago", token: () => eddsa(tokenJwk(), read({ exp: nowSeconds() - 1 })) },
  { name: "nbf ten minutes ahead", token: () => eddsa(tokenJwk(), read({ nbf: nowSeconds() + 600 })) },
  { name: "no exp", token: () => eddsa(tokenJwk(), read({ exp: undefined })) },
  {
    name: "an unknown crit header",
    token: () => rawHs256(utf8Bytes(tokenJwk().x), { crit: ["zip"] }, read()),
  },
  {
    name: "a genuine token for another namespace with its payload swapped",
    token: async () => swapPayload(await readTokenFor(env, "read:elsewhere"), read()),
  },
  {
    name: "a genuine token with a flipped signature",
    token: async () => flipSignature(await readTokenFor(env, `read:${victim}`)),
  },
  { name: "a validly signed 5 KB token", token: () => eddsa(tokenJwk(), read({ pad: "p".repeat(5000) })) },
  {
    name: "a 64 KB token",
    token: async () => `${await readTokenFor(env, `read:${victim}`)}${"A".repeat(65536)}`,
  },
];

const tokensUsed = new Set<string>();
const bodies: string[] = [];
const logged: string[] = [];
let attacks = 0;

beforeAll(async () => {
  await publishFixture(env, { key, content: { value: SECRET_CONTENT } });
  captureConsole(logged);
});

afterAll(() => {
  vi.restoreAllMocks();
  console.log(JSON.stringify({ suite: "token-attacks (edge)", attacks, tokens: tokensUsed.size }));
});

/** An edge isolate that logs its request lines, as in production. */
const loggingEdge = () => edge({ log: true });

async function expectRefused(res: Response, status: 401 | 403): Promise<void> {
  const text = await res.text();
  bodies.push(text);
  attacks++;
  expect(res.status).toBe(status);
  expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  // Errors must never be stored by a shared cache and replayed to someone else.
  expect(res.headers.get("Cache-Control")).toBe("no-store");
  expect(res.headers.get("WWW-Authenticate")).toMatch(/^Bearer realm="fleetconf"/);
  expect(text).not.toContain(SECRET_CONTENT);
}

describe("controls", () => {
  it("serves the private config to a genuine read token, marked private and varying on Authorization", async () => {
    const token = await readTokenFor(env, `read:${victim}`);
    tokensUsed.add(token);
    const res = await loggingEdge().fetch(`/v1/configs/${key}`, bearer(token));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain(SECRET_CONTENT);
    expect(res.headers.get("Cache-Control")).toMatch(/^private, /);
    expect(res.headers.get("Vary")).toContain("Authorization");
  });

  it("accepts a token forged with the real read-token key and no tampering", async () => {
    const token = await eddsa(tokenJwk(), read());
    tokensUsed.add(token);
    expect((await loggingEdge().fetch(`/v1/configs/${key}`, bearer(token))).status).toBe(200);
  });
});

describe.each(ATTACKS)("a read token with $name", { timeout: 30_000 }, (attack) => {
  it("is refused with 401, for the config and for ?version=1", async () => {
    const token = await attack.token();
    tokensUsed.add(token);
    const app = loggingEdge();
    await expectRefused(await app.fetch(`/v1/configs/${key}`, bearer(token)), 401);
    await expectRefused(await app.fetch(`/v1/configs/${key}?version=1`, bearer(token)), 401);
  });
});

describe("scope", { timeout: 30_000 }, () => {
  it.each([
    ["read:elsewhere"],
    [`read:${victim.toUpperCase()}`],
    [`read:${victim}x`],
    ["read:"],
    ["publish:elsewhere"],
  ])("answers 403 for a genuine token with scope %s", async (scope) => {
    const token = await readTokenFor(env, scope);
    tokensUsed.add(token);
    await expectRefused(await loggingEdge().fetch(`/v1/configs/${key}`, bearer(token)), 403);
  });

  it("answers 403 for a scope that is an array", async () => {
    const token = await eddsa(tokenJwk(), read({ scope: [`read:${victim}`] }));
    tokensUsed.add(token);
    await expectRefused(await loggingEdge().fetch(`/v1/configs/${key}`, bearer(token)), 403);
  });
});

describe("the verified-token memory", { timeout: 30_000 }, () => {
  it("is not poisoned: forged variants of a remembered token fail, and the genuine one still works", async () => {
    const app = loggingEdge();
    const genuine = await readTokenFor(env, `read:${victim}`);
    tokensUsed.add(genuine);
    expect((await app.fetch(`/v1/configs/${key}`, bearer(genuine))).status).toBe(200);
    for (const forged of [
      flipSignature(genuine),
      swapPayload(genuine, read({ scope: "read:*" })),
      `${genuine}x`,
      genuine.slice(0, -1),
    ]) {
      tokensUsed.add(forged);
      await expectRefused(await app.fetch(`/v1/configs/${key}`, bearer(forged)), 401);
    }
    expect((await app.fetch(`/v1/configs/${key}`, bearer(genuine))).status).toBe(200);
  });

  it("does not let a remembered token outlive a rotation that drops its key", async () => {
    // A rotation is a new deployment (`wrangler secret put` makes a new version): its isolates
    // build their services from the new PUBLIC_JWKS. The token is verified and remembered by the
    // app before the rotation; the app after it, in this same workerd isolate (so any memory kept
    // in module state would leak across), must refuse it at once.
    const genuine = await readTokenFor(env, `read:${victim}`);
    tokensUsed.add(genuine);
    const jwks = JSON.parse(env.PUBLIC_JWKS) as Jwks;
    const rotated = { keys: jwks.keys.filter((k) => k.purpose !== "read-token") };
    const { newApp } = await import("../../worker/app");
    const { createExecutionContext } = await import("cloudflare:test");
    const request = () => new Request(`https://edge.test/v1/configs/${key}`, bearer(genuine));
    let rememberedBefore = (): number => 0;
    const before = newApp({
      log: true,
      inspect: (services) => {
        rememberedBefore = () => services.readTokens.remembered;
      },
    });
    expect((await before.fetch(request(), env, createExecutionContext())).status).toBe(200);
    expect(rememberedBefore(), "the token was remembered before the rotation").toBe(1);
    const after = newApp({ log: true });
    const res = await after.fetch(
      request(),
      { ...env, PUBLIC_JWKS: JSON.stringify(rotated) },
      createExecutionContext(),
    );
    await expectRefused(res, 401);
  });
});

describe("secrets", () => {
  it("never appear in a log line or a response body", () => {
    const needles = [
      env.PURGE_SECRET,
      env.ADMIN_JWT_SECRET,
      ...(JSON.parse(env.SIGNING_KEYS) as PrivateJwk[]).map((k) => k.d),
      ...(JSON.parse(env.TOKEN_KEYS) as PrivateJwk[]).map((k) => k.d),
      ...[...tokensUsed].flatMap((t) => [t, t.split(".")[2] ?? ""]).filter((n) => n.length >= 16),
    ];
    expect(logged.length).toBeGreaterThan(attacks / 2);
    for (const needle of needles) {
      const hit = [...logged, ...bodies].find((line) => line.includes(needle));
      expect(hit, `leaked into: ${hit?.slice(0, 200)}`).toBeUndefined();
    }
  });
});
