/**
 * The SDK's core runs outside Node (DESIGN §1: Node, Workers, browsers). Bundled for the browser
 * platform it must build with no Node built-in reachable, and that bundle must verify snapshots
 * inside workerd itself (Miniflare): WebCrypto Ed25519, timers and fetch as Workers have them.
 */
import { buildSync } from "esbuild";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flipByte, newSigner, type Signer } from "./support/snapshot-server";

const bundle = buildSync({
  entryPoints: ["client/index.ts"],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  write: false,
  logLevel: "silent",
}).outputFiles[0]?.text as string;

describe("browser bundle", () => {
  it("builds for the browser with no static Node import", () => {
    expect(bundle.length).toBeGreaterThan(1000);
    expect(bundle).not.toMatch(/from\s*["']node:/);
    expect(bundle).not.toMatch(/require\(["']node:/);
  });
});

// A worker that serves the snapshot it is given through the SDK's `fetch` option and reports
// what the SDK made of it. The SDK code is the browser bundle above, unchanged.
const WORKER = `
${bundle.replace(/export\s*\{[^}]*\};?\s*$/, "")}
export default {
  async fetch(request) {
    const { jwks, key, headers, body } = await request.json();
    const served = () => Promise.resolve(new Response(new Uint8Array(body), { status: 200, headers }));
    const client = createConfigClient({ edge: "https://edge.example", key, jwks, fetch: served, intervalMs: 60000 });
    try {
      const snapshot = await client.ready();
      return Response.json({ ok: true, version: snapshot.version, value: snapshot.value });
    } catch (error) {
      return Response.json({ ok: false, code: error.code });
    } finally {
      await client.close();
    }
  },
};`;

describe("inside workerd", () => {
  let mf: Miniflare;
  let signer: Signer;

  beforeAll(async () => {
    signer = await newSigner();
    // Modules listed explicitly: Miniflare's own dependency scan refuses the cache file's
    // variable-specifier import, which workerd itself only rejects if it is ever reached.
    mf = new Miniflare({
      modules: [{ type: "ESModule", path: "worker.mjs", contents: WORKER }],
      compatibilityDate: "2026-04-26",
    });
    await mf.ready;
  }, 60_000);

  afterAll(async () => {
    await mf?.dispose();
  });

  async function verifyInWorkerd(body: Uint8Array, snapshot: Awaited<ReturnType<Signer["sign"]>>) {
    const res = await mf.dispatchFetch("http://worker/", {
      method: "POST",
      body: JSON.stringify({
        jwks: signer.jwks,
        key: snapshot.meta.key,
        headers: {
          ETag: snapshot.meta.etag,
          "Config-Version": String(snapshot.meta.version),
          "Content-Digest": snapshot.meta.digest,
          "Config-Signature": snapshot.meta.signature,
        },
        body: [...body],
      }),
    });
    return (await res.json()) as { ok: boolean; version?: number; value?: unknown; code?: string };
  }

  it("accepts a signed snapshot", async () => {
    const snapshot = await signer.sign("edge/app/config", 7, { region: "weur" });
    expect(await verifyInWorkerd(snapshot.body, snapshot)).toEqual({
      ok: true,
      version: 7,
      value: { region: "weur" },
    });
  });

  it("refuses a flipped byte with digest_mismatch", async () => {
    const snapshot = await signer.sign("edge/app/config", 7, { region: "weur" });
    expect(await verifyInWorkerd(flipByte(snapshot.body, 4), snapshot)).toEqual({
      ok: false,
      code: "digest_mismatch",
    });
  });
});
