/**
 * Key rotation on a real stack of its own (two `wrangler dev` processes restarted over the same
 * state with new secrets, as an operator would deploy them), and a scan of everything both
 * workers logged for secrets.
 *
 * Rotation (docs/security.md, "Key rotation"): a new snapshot key goes first in SIGNING_KEYS, the
 * old one stays as retired, and both are in PUBLIC_JWKS. New versions are signed by the new kid;
 * snapshots signed before the rotation keep verifying through the edge's JWKS and the SDK; read
 * tokens rotate the same way. Dropping the retired key from the JWKS is what makes its old
 * snapshots fail, which is why it must stay listed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createConfigClient, type Jwks } from "../../client";
import {
  type PrivateJwk,
  parseSignatureHeader,
  publicPart,
  READ_AUDIENCE,
  utf8Bytes,
  verifySnapshot,
} from "../../core";
import { mintReadToken } from "../../core/tokens";
import type { FleetconfSecrets as TestSecrets } from "../../scripts/lib/secrets";
import { generateJwk, generateSecrets } from "../../scripts/lib/secrets";
import { eddsa, hmac, unsigned } from "../support/token-forge";
import { edgeServes, send, uniqueNamespace } from "./support/http";
import { type Stack, startStack } from "./support/stack";

let stack: Stack;
const ns = uniqueNamespace("rotate");
const untouched = `${ns}/svc/untouched`;
const changing = `${ns}/svc/changing`;
const privateNs = uniqueNamespace("rotpriv");
const privateKey = `${privateNs}/app`;

const original = generateSecrets();
const oldSnapshot = (JSON.parse(original.SIGNING_KEYS) as PrivateJwk[])[0] as PrivateJwk;
const oldToken = (JSON.parse(original.TOKEN_KEYS) as PrivateJwk[])[0] as PrivateJwk;
const newSnapshot = generateJwk("snapshot");
const newToken = generateJwk("read-token");
/** Every secret and token this file handles, for the log scan at the end. */
const secretsSeen = new Set<string>();

function rotated(signing: PrivateJwk[], tokens: PrivateJwk[], listed: PrivateJwk[]): TestSecrets {
  return {
    ...original,
    SIGNING_KEYS: JSON.stringify(signing),
    TOKEN_KEYS: JSON.stringify(tokens),
    PUBLIC_JWKS: JSON.stringify({ keys: listed.map(publicPart) }),
  };
}

async function admin(method: string, path: string, body?: string) {
  const token = await stack.adminToken();
  secretsSeen.add(token);
  return send(`${stack.originUrl}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    ...(body === undefined ? {} : { body }),
  });
}

async function edgeJwks(): Promise<Jwks> {
  const answer = await send(`${stack.edgeUrl}/.well-known/jwks.json`);
  expect(answer.status).toBe(200);
  return answer.json as Jwks;
}

/** Reads `key` (optionally one version) at the edge and verifies it against `jwks`. */
async function verifiedAtEdge(key: string, jwks: Jwks, version?: number) {
  const answer = await send(`${stack.edgeUrl}/v1/configs/${key}${version ? `?version=${version}` : ""}`);
  expect(answer.status, answer.text).toBe(200);
  const signature = answer.headers.get("Config-Signature") ?? "";
  const check = await verifySnapshot(signature, utf8Bytes(answer.text), jwks);
  const header = parseSignatureHeader(signature);
  return { check, kid: header.ok ? header.header.kid : null, body: answer.text };
}

async function sdkValue(key: string, jwks: Jwks, token?: string): Promise<unknown> {
  const client = createConfigClient({
    edge: stack.edgeUrl,
    key,
    jwks,
    intervalMs: 200,
    ...(token ? { token } : {}),
  });
  try {
    return (await client.ready()).value;
  } finally {
    await client.close();
  }
}

beforeAll(async () => {
  for (const value of Object.values(original)) secretsSeen.add(value);
  for (const jwk of [newSnapshot, newToken]) secretsSeen.add(jwk.d);
  stack = await startStack({ secrets: original });
  expect((await admin("PUT", `/v1/namespaces/${ns}`, '{"visibility":"public","maxAge":1}')).status).toBe(200);
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

describe("snapshot and read-token key rotation", { timeout: 240_000 }, () => {
  let oldReadToken = "";

  it("signs with the only key before rotation", async () => {
    for (const key of [untouched, changing]) {
      const answer = await admin("PUT", `/v1/configs/${key}`, JSON.stringify({ era: "before", key }));
      expect(answer.status, answer.text).toBe(201);
    }
    expect((await admin("PUT", `/v1/configs/${privateKey}`, '{"private":true}')).status).toBe(201);
    const minted = await admin("POST", "/v1/tokens", JSON.stringify({ scope: `read:${privateNs}` }));
    oldReadToken = (minted.json as { token: string }).token;
    secretsSeen.add(oldReadToken);
    await edgeServes(stack.edgeUrl, changing, 1);
    const { check, kid } = await verifiedAtEdge(untouched, await edgeJwks());
    expect(check.ok).toBe(true);
    expect(kid).toBe(oldSnapshot.kid);
  });

  it("after rotation, lists both kids, signs new versions with the new one and still verifies the old ones", async () => {
    await stack.restartWith(
      rotated(
        [newSnapshot, oldSnapshot],
        [newToken, oldToken],
        [newSnapshot, oldSnapshot, newToken, oldToken],
      ),
    );
    const jwks = await edgeJwks();
    const kids = jwks.keys.map((k) => k.kid);
    expect(kids).toEqual(
      expect.arrayContaining([newSnapshot.kid, oldSnapshot.kid, newToken.kid, oldToken.kid]),
    );
    expect(jwks.keys.some((k) => "d" in k)).toBe(false);
    const originJwks = await send(`${stack.originUrl}/.well-known/jwks.json`);
    expect((originJwks.json as Jwks).keys.map((k) => k.kid).sort()).toEqual([...kids].sort());

    const published = await admin("PUT", `/v1/configs/${changing}`, JSON.stringify({ era: "after" }));
    expect(published.status, published.text).toBe(201);
    await edgeServes(stack.edgeUrl, changing, 2);
    const fresh = await verifiedAtEdge(changing, jwks);
    expect(fresh.check.ok).toBe(true);
    expect(fresh.kid).toBe(newSnapshot.kid);

    // Signed before the rotation, served unchanged, still valid.
    const old = await verifiedAtEdge(untouched, jwks);
    expect(old.check.ok).toBe(true);
    expect(old.kid).toBe(oldSnapshot.kid);
    const oldVersion = await verifiedAtEdge(changing, jwks, 1);
    expect(oldVersion).toMatchObject({ check: { ok: true }, kid: oldSnapshot.kid });

    // The SDK, pinned to the rotated JWKS, accepts both.
    expect(await sdkValue(untouched, jwks)).toEqual({ era: "before", key: untouched });
    expect(await sdkValue(changing, jwks)).toEqual({ era: "after" });
  });

  it("keeps read tokens signed by the retired token key valid and mints new ones with the new kid", async () => {
    const jwks = await edgeJwks();
    const old = await send(`${stack.edgeUrl}/v1/configs/${privateKey}`, {
      headers: { Authorization: `Bearer ${oldReadToken}` },
    });
    expect(old.status).toBe(200);
    const minted = await admin("POST", "/v1/tokens", JSON.stringify({ scope: `read:${privateNs}` }));
    const token = (minted.json as { token: string }).token;
    secretsSeen.add(token);
    const kid = JSON.parse(atob((token.split(".")[0] ?? "").replaceAll("-", "+").replaceAll("_", "/"))).kid;
    expect(kid).toBe(newToken.kid);
    expect(await sdkValue(privateKey, jwks, token)).toEqual({ private: true });
  });

  it("once the retired snapshot key is dropped from the JWKS, its snapshots no longer verify", async () => {
    // Not a step to take: it shows why a retired key must stay listed while anything it signed is served.
    await stack.restartWith(rotated([newSnapshot], [newToken], [newSnapshot, newToken]));
    const jwks = await edgeJwks();
    expect(jwks.keys.map((k) => k.kid)).not.toContain(oldSnapshot.kid);
    const old = await verifiedAtEdge(untouched, jwks);
    expect(old.check).toMatchObject({ ok: false, code: "unknown_kid" });
    await expect(sdkValue(untouched, jwks)).rejects.toMatchObject({ code: expect.any(String) });
    // …and read tokens of the dropped token key are refused at the edge.
    const refused = await send(`${stack.edgeUrl}/v1/configs/${privateKey}`, {
      headers: { Authorization: `Bearer ${oldReadToken}` },
    });
    expect(refused.status).toBe(401);
  });
});

describe("secrets in the workers' logs", { timeout: 60_000 }, () => {
  it("never include a secret, private key or token, even while tokens are being forged", async () => {
    // A few attacks over HTTP so the logs include refusals, not just successes.
    const secret = utf8Bytes(stack.secrets.ADMIN_JWT_SECRET);
    const now = Math.floor(Date.now() / 1000);
    const forged = [
      unsigned({ alg: "none" }, { aud: "fleetconf-admin", scope: "admin", exp: now + 60 }),
      await hmac("HS256", utf8Bytes(newSnapshot.x), {
        aud: "fleetconf-admin",
        scope: "admin",
        exp: now + 60,
      }),
      await hmac("HS256", secret, { aud: "fleetconf-admin", scope: "admin", exp: now - 60 }),
      await eddsa(newToken, { aud: READ_AUDIENCE, scope: "read:*", exp: now - 60 }),
      await mintReadToken(newToken, { scope: `read:${ns}`, ttlSeconds: 60, sub: "x" }),
    ];
    for (const token of forged) {
      secretsSeen.add(token);
      expect(
        (
          await send(`${stack.originUrl}/v1/configs/${changing}`, {
            headers: { Authorization: `Bearer ${token}` },
          })
        ).status,
      ).toBe(401);
      const edge = await send(`${stack.edgeUrl}/v1/configs/${privateKey}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect([401, 403]).toContain(edge.status);
    }
    const lines = [...stack.logLines("edge"), ...stack.logLines("origin")];
    const { readFileSync } = await import("node:fs");
    const log = readFileSync(stack.logFile, "utf8");
    expect(log.length).toBeGreaterThan(1000);
    expect(lines.length).toBeGreaterThan(10);
    const needles = [...secretsSeen].flatMap((value) => {
      if (value.startsWith("[") || value.startsWith("{")) {
        // A JSON key set: look for each private `d`, not the whole document.
        const keys = JSON.parse(value) as { keys?: PrivateJwk[] } | PrivateJwk[];
        return (Array.isArray(keys) ? keys : (keys.keys ?? [])).map((k) => k.d).filter(Boolean);
      }
      return value.includes(".") ? [value, value.split(".")[2] ?? ""] : [value];
    });
    for (const jwk of [oldSnapshot, oldToken, newSnapshot, newToken]) needles.push(jwk.d);
    for (const needle of needles.filter((n) => n.length >= 16)) {
      expect(log.includes(needle), `a secret appears in ${stack.logFile}`).toBe(false);
    }
  });
});
