/**
 * What the SDK trusts (client/trust.ts) against a local edge double serving really signed
 * snapshots, roots and freshness proofs: pins are required off loopback, a root rotates only along
 * its signed chain, revoked kids stop verifying, an expired root accepts nothing new, thumbprint
 * pins filter the edge's JWKS, and Config-Freshness is checked against the answer it rides on
 * (mix-and-match, rollback below the freshest proof, freeze → onStale while keeping the snapshot).
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type ConfigClient,
  type ConfigClientError,
  type ConfigClientOptions,
  createConfigClient,
  type FreshnessState,
  jwkThumbprint,
} from "../../../client";
import { signFreshness } from "../../../core/freshness";
import { generateSigningJwk, importSigningKey, type PrivateJwk, publicPart } from "../../../core/jws";
import type { Snapshot } from "../../../core/snapshot";
import { type RootDocument, signRoot } from "../../../core/trust-root";
import { rootSigned } from "../../support/trust-root-fixture";
import {
  type Handler,
  newSigner,
  type Signer,
  serveSnapshot,
  startTestServer,
  type TestServer,
  waitFor,
} from "./support/snapshot-server";

const KEY = "payments/prod/flags";
let server: TestServer;
let signer: Signer;
let rootKey: PrivateJwk;
let dir: string;
const clients: ConfigClient<unknown>[] = [];

beforeEach(async () => {
  server = await startTestServer();
  signer = await newSigner();
  rootKey = await generateSigningJwk("root");
  dir = await mkdtemp(join(tmpdir(), "fleetconf-trust-"));
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

/** Serves `roots` by version at the well-known path, and `config` for everything else. */
function edge(roots: () => RootDocument[], config: Handler): Handler {
  return (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/.well-known/fleetconf-root.json") {
      const version = Number(url.searchParams.get("version"));
      const doc = roots().find((r) => r.signed.version === version);
      if (!doc) return void res.writeHead(404).end();
      return void res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(doc));
    }
    return config(req, res);
  };
}

function client(options: Partial<ConfigClientOptions<unknown>> = {}) {
  const errors: ConfigClientError[] = [];
  const warnings: string[] = [];
  const c = createConfigClient({
    edge: server.url,
    key: KEY,
    intervalMs: 20,
    warn: (m) => warnings.push(m),
    ...options,
  });
  c.onError((e) => errors.push(e));
  clients.push(c);
  return { c, errors, warnings };
}

async function proof(
  snap: Snapshot,
  by: PrivateJwk,
  times: { iat: number; exp: number },
  over: Partial<{ key: string; ver: number; digest: string }> = {},
) {
  return signFreshness(await importSigningKey(by), by.kid, {
    key: over.key ?? KEY,
    ver: over.ver ?? snap.meta.version,
    digest: over.digest ?? snap.meta.digest,
    ...times,
  });
}

const nowS = () => Math.floor(Date.now() / 1000);

describe("pinning", () => {
  it("refuses to start against a non-loopback edge without a pinned root, JWKS or thumbprints", () => {
    expect(() => createConfigClient({ edge: "https://config.example.com", key: KEY })).toThrow(
      /pin what to trust/,
    );
    expect(() =>
      createConfigClient({
        edge: "https://config.example.com",
        key: KEY,
        jwksUrl: "https://config.example.com/j",
      }),
    ).toThrow(/pin what to trust/);
  });

  it("trusts a loopback edge's JWKS on first use, and says so loudly", async () => {
    const snap = await signer.sign(KEY, 1, { a: 1 });
    server.handle((req, res) =>
      req.url === "/.well-known/jwks.json"
        ? void res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(signer.jwks))
        : serveSnapshot(snap)(req, res),
    );
    const { c, warnings } = client();
    await expect(c.ready()).resolves.toMatchObject({ version: 1 });
    expect(warnings.join("\n")).toMatch(
      /trusting the edge's JWKS on first use \(loopback development only\)/,
    );
  });

  it("refuses a pinned root that is not signed by a threshold of its own root keys", async () => {
    const unsigned: RootDocument = { signed: rootSigned(1, [rootKey], [signer.jwk]), signatures: [] };
    const { c } = client({ trustRoot: unsigned });
    await expect(c.ready()).rejects.toMatchObject({ code: "root_refused" });
  });

  it("with key thumbprints, uses only the edge's keys whose RFC 7638 thumbprint is pinned", async () => {
    const forger = await newSigner();
    const jwks = { keys: [...signer.jwks.keys, ...forger.jwks.keys] };
    let snap = await forger.sign(KEY, 1, { forged: true });
    server.handle((req, res) =>
      req.url === "/.well-known/jwks.json"
        ? void res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(jwks))
        : serveSnapshot(snap)(req, res),
    );
    const { c, errors } = client({ keyThumbprints: [await jwkThumbprint(publicPart(signer.jwk))] });
    await waitFor(() => errors.some((e) => e.code === "unknown_kid"));
    expect(c.current()).toBeUndefined();
    snap = await signer.sign(KEY, 2, { real: true });
    await waitFor(() => c.current()?.version === 2);
  });
});

describe("key downloads", () => {
  it("fetches a JWKS without a pinned key at most once per jwksRefetchMinMs, however often it polls", async () => {
    const forger = await newSigner();
    const snap = await forger.sign(KEY, 1, { forged: true });
    server.handle((req, res) =>
      req.url === "/.well-known/jwks.json"
        ? void res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(forger.jwks))
        : serveSnapshot(snap)(req, res),
    );
    const { c, errors } = client({
      keyThumbprints: [await jwkThumbprint(publicPart(signer.jwk))],
      jwksRefetchMinMs: 60_000,
    });
    await waitFor(() => errors.filter((e) => e.code === "unknown_kid").length >= 5);
    expect(server.requests.filter((r) => r.url === "/.well-known/jwks.json")).toHaveLength(1);
    expect(c.current()).toBeUndefined();
  });
});

describe("root rotation", () => {
  it("follows the chain to a new snapshot key signed by the trusted root key, and persists it", async () => {
    const next = await newSigner();
    const v1 = await signRoot(rootSigned(1, [rootKey], [signer.jwk]), [rootKey]);
    const roots: RootDocument[] = [v1];
    let snap = await signer.sign(KEY, 1, { a: 1 });
    server.handle(
      edge(
        () => roots,
        (req, res) => serveSnapshot(snap)(req, res),
      ),
    );
    const cacheFile = join(dir, "cache.json");
    const { c } = client({ trustRoot: v1, jwksRefetchMinMs: 0, cacheFile });
    await c.ready();
    roots.push(
      await signRoot(rootSigned(2, [rootKey], [next.jwk], { revoked: [signer.jwk.kid] }), [rootKey]),
    );
    snap = await next.sign(KEY, 2, { rotated: true });
    await waitFor(() => c.current()?.version === 2);
    await c.close();
    const record = JSON.parse(await readFile(cacheFile, "utf8"));
    expect(record.roots.map((r: RootDocument) => r.signed.version)).toEqual([2]);

    // A restarted client pinned to v1 re-verifies the cached chain and trusts v2's key offline.
    server.handle((_req, res) => void res.writeHead(502).end());
    const again = client({ trustRoot: v1, cacheFile });
    await expect(again.c.ready()).resolves.toMatchObject({ version: 2, stale: true });
  });

  it("ignores a cache file whose roots do not chain to the pinned root (a self-vouching chain)", async () => {
    const forger = await newSigner();
    const forgerRoot = await generateSigningJwk("root");
    const v1 = await signRoot(rootSigned(1, [rootKey], [signer.jwk]), [rootKey]);
    const forged = await forger.sign(KEY, 9, { owned: true });
    const cacheFile = join(dir, "forged.json");
    await writeFile(
      cacheFile,
      JSON.stringify({
        format: "fleetconf-client-cache/1",
        key: KEY,
        version: 9,
        etag: forged.meta.etag,
        digest: forged.meta.digest,
        signature: forged.meta.signature,
        body: Buffer.from(forged.body).toString("base64"),
        // Root v2 naming the forger's key, signed by the forger's root key only.
        roots: [await signRoot(rootSigned(2, [forgerRoot], [forger.jwk]), [forgerRoot])],
        savedAt: 0,
      }),
    );
    server.handle((_req, res) => void res.writeHead(502).end());
    const { c, errors } = client({ trustRoot: v1, cacheFile });
    await expect(c.ready()).rejects.toMatchObject({ code: "http_error" });
    expect(errors[0]?.code).toBe("cache_invalid");
    expect(errors[0]?.message).toMatch(/does not chain to the pinned root/);
    expect(c.current()).toBeUndefined();
  });

  it("refuses a next root signed only by a key the trusted root does not know (a forged rotation)", async () => {
    const forger = await newSigner();
    const forgerRoot = await generateSigningJwk("root");
    const v1 = await signRoot(rootSigned(1, [rootKey], [signer.jwk]), [rootKey]);
    const roots = [v1, await signRoot(rootSigned(2, [forgerRoot], [forger.jwk]), [forgerRoot])];
    let snap = await signer.sign(KEY, 1, { a: 1 });
    server.handle(
      edge(
        () => roots,
        (req, res) => serveSnapshot(snap)(req, res),
      ),
    );
    const { c, errors } = client({ trustRoot: v1, jwksRefetchMinMs: 0 });
    const changes: number[] = [];
    c.onChange((s) => changes.push(s.version));
    await c.ready();
    snap = await forger.sign(KEY, 2, { forged: true });
    await waitFor(() => errors.some((e) => e.code === "root_refused"));
    await waitFor(() => errors.some((e) => e.code === "unknown_kid"));
    expect(c.current()?.version).toBe(1);
    expect(changes).toEqual([1]);
  });

  it("stops verifying a kid the next root revokes", async () => {
    const next = await newSigner();
    const v1 = await signRoot(rootSigned(1, [rootKey], [signer.jwk, next.jwk]), [rootKey]);
    const roots = [v1];
    let snap = await signer.sign(KEY, 1, { a: 1 });
    server.handle(
      edge(
        () => roots,
        (req, res) => serveSnapshot(snap)(req, res),
      ),
    );
    const { c, errors } = client({ trustRoot: v1, jwksRefetchMinMs: 0, rootRefreshMs: 50 });
    await c.ready();
    roots.push(
      await signRoot(rootSigned(2, [rootKey], [next.jwk], { revoked: [signer.jwk.kid] }), [rootKey]),
    );
    await new Promise((r) => setTimeout(r, 200)); // the periodic root check runs
    snap = await signer.sign(KEY, 2, { by: "revoked key" });
    await waitFor(() => errors.some((e) => e.code === "revoked_key"));
    expect(c.current()?.version).toBe(1);
  });

  it("accepts nothing new once the newest root has expired", async () => {
    const v1 = await signRoot(rootSigned(1, [rootKey], [signer.jwk], { expires: "2020-01-01T00:00:00Z" }), [
      rootKey,
    ]);
    const snap = await signer.sign(KEY, 1, { a: 1 });
    server.handle(
      edge(
        () => [v1],
        (req, res) => serveSnapshot(snap)(req, res),
      ),
    );
    const { c } = client({ trustRoot: v1 });
    await expect(c.ready()).rejects.toMatchObject({ code: "root_expired" });
  });
});

describe("Config-Freshness", () => {
  async function serveWithProof(snap: Snapshot, header: () => Promise<string>): Promise<Handler> {
    return async (req, res) =>
      serveSnapshot(snap, { headers: { "Config-Freshness": await header() } })(req, res);
  }

  it("refuses an answer whose proof names another version (mix-and-match) and keeps the last good one", async () => {
    const v1 = await signer.sign(KEY, 1, { a: 1 });
    const v2 = await signer.sign(KEY, 2, { a: 2 });
    server.handle(await serveWithProof(v1, () => proof(v1, signer.jwk, { iat: nowS(), exp: nowS() + 60 })));
    const { c, errors } = client({ jwks: signer.jwks });
    await c.ready();
    server.handle(await serveWithProof(v2, () => proof(v1, signer.jwk, { iat: nowS(), exp: nowS() + 60 })));
    await waitFor(() => errors.some((e) => e.code === "freshness_mismatch"));
    expect(c.current()?.version).toBe(1);
  });

  it("refuses a proof signed by an untrusted key", async () => {
    const forger = await newSigner();
    const v1 = await signer.sign(KEY, 1, { a: 1 });
    server.handle(await serveWithProof(v1, () => proof(v1, forger.jwk, { iat: nowS(), exp: nowS() + 60 })));
    const { c } = client({ jwks: signer.jwks });
    await expect(c.ready()).rejects.toMatchObject({ code: "bad_freshness" });
  });

  it("refuses a snapshot older than the freshest proof seen, even one it never held", async () => {
    const v1 = await signer.sign(KEY, 1, { a: 1 });
    const v3 = await signer.sign(KEY, 3, { a: 3 });
    // A 304 for v1 carries a proof that v3 is current (the edge moved on): v1 and v2 are now too old.
    server.handle(await serveWithProof(v1, () => proof(v1, signer.jwk, { iat: nowS(), exp: nowS() + 60 })));
    const { c, errors } = client({ jwks: signer.jwks });
    await c.ready();
    const v2 = await signer.sign(KEY, 2, { a: 2 });
    server.handle(await serveWithProof(v3, () => proof(v3, signer.jwk, { iat: nowS(), exp: nowS() + 60 })));
    await waitFor(() => c.current()?.version === 3);
    server.handle(
      await serveWithProof(v2, () => proof(v2, signer.jwk, { iat: nowS() - 5, exp: nowS() + 60 })),
    );
    await waitFor(() => errors.some((e) => e.code === "version_rollback"));
    expect(c.current()?.version).toBe(3);
  });

  it("reports onStale when only an old proof can be had (freeze), keeps the snapshot, and onFresh when a new one comes", async () => {
    const v1 = await signer.sign(KEY, 1, { a: 1 });
    const frozenAt = nowS() - 1;
    server.handle(
      await serveWithProof(v1, () => proof(v1, signer.jwk, { iat: frozenAt, exp: frozenAt + 3600 })),
    );
    const { c } = client({ jwks: signer.jwks, maxStalenessMs: 2000 });
    const stale: FreshnessState[] = [];
    const fresh: FreshnessState[] = [];
    c.onStale((s) => stale.push(s));
    c.onFresh((s) => fresh.push(s));
    await c.ready();
    expect(c.freshness().stale).toBe(false);
    await waitFor(() => stale.length === 1, 4000, "onStale");
    expect(stale[0]).toMatchObject({ stale: true, version: 1, proof: { ver: 1, iat: frozenAt } });
    expect(c.current()?.version).toBe(1);
    server.handle(await serveWithProof(v1, () => proof(v1, signer.jwk, { iat: nowS(), exp: nowS() + 3600 })));
    await waitFor(() => fresh.length === 1, 4000, "onFresh");
    expect(c.freshness().stale).toBe(false);
  });

  it("is stale after maxStalenessMs when the edge sends no proof at all", async () => {
    server.handle(serveSnapshot(await signer.sign(KEY, 1, { a: 1 })));
    const { c } = client({ jwks: signer.jwks, maxStalenessMs: 1000 });
    const stale: FreshnessState[] = [];
    c.onStale((s) => stale.push(s));
    await c.ready();
    await waitFor(() => stale.length === 1, 3000, "onStale");
    expect(stale[0]?.proof).toBeNull();
  });

  it("keeps the freshest proof in the cache file, so a restarted client still refuses older versions", async () => {
    const cacheFile = join(dir, "cache.json");
    const v2 = await signer.sign(KEY, 2, { a: 2 });
    server.handle(await serveWithProof(v2, () => proof(v2, signer.jwk, { iat: nowS(), exp: nowS() + 600 })));
    const first = client({ jwks: signer.jwks, cacheFile });
    await first.c.ready();
    await first.c.close();
    expect(JSON.parse(await readFile(cacheFile, "utf8")).freshness).toEqual(expect.any(String));
    // A restarted client offered an older, validly signed version refuses it: the proof's
    // version (re-verified from the file) is the floor.
    const v1 = await signer.sign(KEY, 1, { a: 1 });
    server.handle(serveSnapshot(v1));
    const again = client({ jwks: signer.jwks, cacheFile });
    await waitFor(() => again.errors.some((e) => e.code === "version_rollback"));
    expect(again.c.current()?.version).toBe(2);
  });
});
