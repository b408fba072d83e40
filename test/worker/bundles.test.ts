/**
 * GET /v1/bundles/{namespace}/{name} at the edge (DESIGN §8), inside workerd with the real origin,
 * KV and Cache API: the signed manifest headed like a config (ETag, Config-Version,
 * Content-Digest, a Config-Signature whose `key` is `bundle:{namespace}/{name}`), 304 on a
 * matching If-None-Match, a long-poll woken by a change set of its members, read tokens for a
 * private namespace, and `?version=N` of an older manifest.
 */
import { describe, expect, it } from "vitest";
import { contentDigestOf, type Jwks, sha256, verifySnapshot } from "../../core";
import type { EdgeServices } from "../../worker/services";
import { readTokenFor, uniqueNamespace } from "../support/snapshot-fixture";
import { bearer, edge, env } from "./harness";
import { admin, publish, purgeInit, setNamespace } from "./origin-support";

function bundleEdge() {
  let services: EdgeServices | undefined;
  const app = edge({
    vars: { HEAD_SOURCE: "origin" },
    headRevalidateMs: 100,
    inspect: (built) => {
      services = built;
    },
  });
  const parked = () => services?.waiters.parked ?? 0;
  return { app, parked };
}

/** A namespace with three published keys and a bundle `web` of all three. */
async function bundleOf(visibility: "public" | "private" = "public") {
  const namespace = uniqueNamespace("bd");
  await setNamespace(namespace, { visibility });
  const keys = [`${namespace}/app/a`, `${namespace}/app/b`, `${namespace}/app/c`];
  for (const key of keys) await publish(key, { v: 1 });
  const res = await admin("PUT", `/v1/bundles/${namespace}/web`, { keys });
  if (res.status !== 200) throw new Error(`bundle: ${res.status} ${await res.text()}`);
  return { namespace, keys, path: `/v1/bundles/${namespace}/web` };
}

async function changeSet(keys: string[], content: unknown): Promise<void> {
  const res = await admin("POST", "/v1/changes", { changes: keys.map((key) => ({ key, content })) });
  if (res.status !== 201) throw new Error(`changes: ${res.status} ${await res.text()}`);
}

const tick = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));

describe("GET /v1/bundles/{namespace}/{name}", { timeout: 20_000 }, () => {
  it("serves the manifest headed like a config, signed under bundle:{namespace}/{name}", async () => {
    const { namespace, keys, path } = await bundleOf();
    const { app } = bundleEdge();
    const res = await app.fetch(path);
    expect(res.status).toBe(200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const manifest = JSON.parse(new TextDecoder().decode(bytes)) as {
      bundle: string;
      version: number;
      members: Record<string, { version: number; digest: string }>;
    };
    expect(manifest.bundle).toBe(`${namespace}/web`);
    expect(manifest.version).toBe(1);
    expect(Object.keys(manifest.members)).toEqual(keys);
    expect(res.headers.get("Config-Version")).toBe("1");
    expect(res.headers.get("ETag")).toMatch(/^"1-/);
    expect(res.headers.get("Content-Digest")).toBe(contentDigestOf(await sha256(bytes)));
    expect(res.headers.get("Cache-Control")).toMatch(/^public, max-age=5/);
    const jwks = JSON.parse(env.PUBLIC_JWKS) as Jwks;
    const check = await verifySnapshot(res.headers.get("Config-Signature") ?? "", bytes, jwks);
    expect(check).toMatchObject({ ok: true, header: { key: `bundle:${namespace}/web`, ver: 1 } });
    // Each member's digest is the one the edge serves for that version.
    const member = await app.fetch(
      `/v1/configs/${keys[0]}?version=${manifest.members[keys[0] ?? ""]?.version}`,
    );
    expect(member.headers.get("Content-Digest")).toBe(manifest.members[keys[0] ?? ""]?.digest);
  });

  it("answers 304 to a matching If-None-Match and 404 for a bundle never defined", async () => {
    const { namespace, path } = await bundleOf();
    const { app } = bundleEdge();
    const etag = (await app.fetch(path)).headers.get("ETag") ?? "";
    const again = await app.fetch(path, { headers: { "If-None-Match": etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get("Config-Version")).toBe("1");
    expect((await app.fetch(`/v1/bundles/${namespace}/nope`)).status).toBe(404);
    expect((await app.fetch(`/v1/bundles/${namespace}/Bad_Name`)).status).toBe(400);
    expect((await app.fetch(`/v1/bundles/${namespace}`)).status).toBe(400);
  });

  it("holds a long-poll until a change set of its members lands, then answers the next manifest", async () => {
    const { keys, path } = await bundleOf();
    const { app, parked } = bundleEdge();
    const etag = (await app.fetch(path)).headers.get("ETag") ?? "";
    const held = app.fetch(path, { headers: { "If-None-Match": etag, Prefer: "wait=20" } });
    const deadline = Date.now() + 3000;
    while (parked() !== 1 && Date.now() < deadline) await tick(5);
    expect(parked()).toBe(1);
    await changeSet(keys, { v: 2 });
    await app.fetch("/internal/purge", purgeInit({ keys: [`bundle:${path.split("/")[3]}/web`] }));
    const res = await held;
    expect(res.status).toBe(200);
    expect(res.headers.get("Preference-Applied")).toBe("wait=20");
    const manifest = (await res.json()) as { version: number; members: Record<string, { version: number }> };
    expect(manifest.version).toBe(2);
    expect(Object.values(manifest.members).map((m) => m.version)).toEqual([2, 2, 2]);
    // The first manifest stays readable as an immutable version.
    const old = await app.fetch(`${path}?version=1`);
    expect(old.status).toBe(200);
    expect(old.headers.get("Cache-Control")).toContain("immutable");
  });

  it("needs a read token for a private namespace", async () => {
    const { namespace, path } = await bundleOf("private");
    const { app } = bundleEdge();
    expect((await app.fetch(path)).status).toBe(401);
    const token = await readTokenFor(env, `read:${namespace}`);
    expect((await app.fetch(path, bearer(token))).status).toBe(200);
    const other = await readTokenFor(env, `read:${uniqueNamespace("bd")}`);
    expect((await app.fetch(path, bearer(other))).status).toBe(403);
  });
});
