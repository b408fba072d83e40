/**
 * Redaction, delete generations and Config-Freshness over the real stack (`wrangler dev`: the
 * origin's Durable Objects and KV, the edge, the `fleetconf` executable): a leaked version is
 * redacted with the CLI and the edge answers 410 for it; a key deleted and re-created never
 * serves its old versions; current answers carry a proof that verifies against the JWKS.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type Jwks, verifyFreshness } from "../../core";
import { runBin } from "./support/cli";
import { adminTokenFor, edgeAnswers, edgeServes, originClient, send, uniqueNamespace } from "./support/http";

const stack = inject("stack");
const namespace = uniqueNamespace("redact");
const key = `${namespace}/svc/creds`;
let dir: string;
let token: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fleetconf-e2e-redact-"));
  token = await adminTokenFor(stack);
  const origin = originClient(stack, token);
  expect((await origin.setNamespace(namespace, { visibility: "public" })).status).toBe(200);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("redaction over wrangler dev", () => {
  it("fleetconf redact removes a leaked version: the edge answers 410 for it, the live one is untouched", async () => {
    const origin = originClient(stack, token);
    expect((await origin.publish(key, JSON.stringify({ apiKey: "sk_live_leaked" }))).status).toBe(201);
    const leaked = await send(`${stack.edgeUrl}/v1/configs/${key}?version=1`);
    expect(leaked.text).toContain("sk_live_leaked");
    expect((await origin.publish(key, JSON.stringify({ apiKey: null }))).status).toBe(201);

    const run = await runBin(["redact", key, "1", "--yes", "-m", "leaked key", "--json"], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        FLEETCONF_ORIGIN: stack.originUrl,
        FLEETCONF_TOKEN: token,
        FLEETCONF_DEV_VARS: join(dir, "no.dev.vars"),
      },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ key, version: 1, redacted: true });

    const gone = await edgeAnswers(stack.edgeUrl, `/v1/configs/${key}?version=1`, 410);
    expect(gone.headers.get("Content-Type")).toBe("application/problem+json");
    expect(gone.text).not.toContain("sk_live_leaked");
    const live = await edgeServes(stack.edgeUrl, key, 2);
    expect(live.json).toEqual({ apiKey: null });
  });

  it("a current answer carries a Config-Freshness proof for its version that verifies against the JWKS", async () => {
    const live = await edgeServes(stack.edgeUrl, key, 2);
    const proof = live.headers.get("Config-Freshness") ?? "";
    const check = await verifyFreshness(proof, JSON.parse(stack.secrets.PUBLIC_JWKS) as Jwks);
    expect(check.ok && check.payload).toMatchObject({
      key,
      ver: 2,
      digest: live.headers.get("Content-Digest"),
    });
  });

  it("a key deleted and re-created never serves a version from before the delete", async () => {
    const origin = originClient(stack, token);
    expect((await origin.remove(key)).status).toBe(200);
    await edgeAnswers(stack.edgeUrl, `/v1/configs/${key}`, 404);
    expect((await origin.publish(key, JSON.stringify({ apiKey: "new" }))).status).toBe(201);
    await edgeServes(stack.edgeUrl, key, 3);
    const before = await edgeAnswers(stack.edgeUrl, `/v1/configs/${key}?version=2`, 404);
    expect(before.text).not.toContain("apiKey");
  });
});
