/**
 * Issue 14's attack list, each through a real tampering proxy (support/tampering-proxy.ts) between
 * a real SDK or agent and the real edge of the e2e `wrangler dev` stack: key swap, self-vouching
 * cache file, rollback, freeze, mix-and-match, endless data and a revoked key. Each test states
 * what the client did and checks that nothing forged was applied (SDK onChange) or written (agent
 * --out, its sidecar). The clients pin a trust root made here: root key held by the test, snapshot
 * key = the stack's real one (as `fleetconf keys rotate` would list it).
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { runAgent } from "../../cli/agent/agent";
import {
  type ConfigClient,
  type ConfigClientError,
  type ConfigClientOptions,
  createConfigClient,
  type FreshnessState,
  jwkThumbprint,
} from "../../client";
import { utf8Bytes } from "../../core/encoding";
import { generateSigningJwk, importSigningKey, type PrivateJwk, publicPart } from "../../core/jws";
import { buildSnapshot, type Snapshot } from "../../core/snapshot";
import { mintReadToken } from "../../core/tokens";
import { type RootDocument, type RootSigned, signRoot } from "../../core/trust-root";
import { waitFor } from "../unit/client/support/snapshot-server";
import { adminTokenFor, edgeServes, type OriginClient, originClient, uniqueNamespace } from "./support/http";
import {
  endless,
  honest,
  startTamperingProxy,
  type TamperingProxy,
  type Upstream,
} from "./support/tampering-proxy";

const stack = inject("stack");
const namespace = uniqueNamespace("trust");
const stackKey = (JSON.parse(stack.secrets.SIGNING_KEYS) as PrivateJwk[])[0] as PrivateJwk;

let admin: OriginClient;
let proxy: TamperingProxy;
let readToken: string;
let dir: string;
let rootKey: PrivateJwk;
let root1: RootDocument;
/** What the proxy serves at /.well-known/fleetconf-root.json?version=N. */
let servedRoots: RootDocument[] = [];
const clients: ConfigClient<unknown>[] = [];

function rootSigned(
  version: number,
  roots: PrivateJwk[],
  snapshots: PrivateJwk[],
  revoked: string[] = [],
): RootSigned {
  return {
    type: "fleetconf-root",
    version,
    expires: "2099-01-01T00:00:00Z",
    threshold: 1,
    keys: [
      ...roots.map(publicPart),
      ...snapshots.map((k) => ({ ...publicPart(k), purpose: "snapshot" as const })),
    ],
    revoked,
  };
}

async function publish(key: string, version: number, value: unknown): Promise<void> {
  const answer = await admin.publish(key, JSON.stringify(value));
  expect(answer.status, answer.text).toBe(201);
  await edgeServes(stack.edgeUrl, key, version, { headers: { Authorization: `Bearer ${readToken}` } });
}

function sdk(key: string, options: Partial<ConfigClientOptions<unknown>> = {}) {
  const errors: ConfigClientError[] = [];
  const changes: number[] = [];
  const c = createConfigClient({
    edge: proxy.url,
    key,
    trustRoot: root1,
    token: readToken,
    intervalMs: 100,
    maxBackoffMs: 300,
    longPoll: false,
    jwksRefetchMinMs: 0,
    warn: () => undefined,
    ...options,
  });
  c.onError((e) => errors.push(e));
  c.onChange((s) => changes.push(s.version));
  clients.push(c);
  return { c, errors, changes };
}

/** The headers the edge would send for `snap`, for answers the attacker builds itself. */
function answerOf(snap: Snapshot, extra: Record<string, string> = {}): Upstream {
  return {
    status: 200,
    headers: {
      "content-type": "application/json",
      etag: snap.meta.etag,
      "config-version": String(snap.meta.version),
      "content-digest": snap.meta.digest,
      "config-signature": snap.meta.signature,
      "cache-control": "private, max-age=0",
      ...extra,
    },
    body: Buffer.from(snap.body),
  };
}

async function forge(signer: PrivateJwk, key: string, version: number, value: unknown): Promise<Snapshot> {
  return buildSnapshot({
    key,
    version,
    body: utf8Bytes(JSON.stringify(value)),
    publishedAt: Date.now(),
    signingKey: await importSigningKey(signer),
    kid: signer.kid,
  });
}

const isConfig = (path: string, key: string) => path.startsWith(`/v1/configs/${key}`);
const rootPath = "/.well-known/fleetconf-root.json";
const json = (value: unknown): Upstream => ({
  status: 200,
  headers: { "content-type": "application/json" },
  body: Buffer.from(JSON.stringify(value)),
});

/** The proxy serves the test's roots, and otherwise `then` (default: the edge's answer). */
function withRoots(then = honest) {
  return (path: string, upstream: Upstream, req: Parameters<typeof honest>[2]) => {
    if (path.startsWith(rootPath)) {
      const version = Number(new URL(path, "http://x").searchParams.get("version") ?? servedRoots.length);
      const doc = servedRoots.find((r) => r.signed.version === version);
      return doc ? json(doc) : { status: 404, headers: {}, body: Buffer.alloc(0) };
    }
    return then(path, upstream, req);
  };
}

beforeAll(async () => {
  admin = originClient(stack, await adminTokenFor(stack));
  const settings = await admin.setNamespace(namespace, { maxAge: 0 });
  expect(settings.status, settings.text).toBe(200);
  const [tokenKey] = JSON.parse(stack.secrets.TOKEN_KEYS) as PrivateJwk[];
  if (!tokenKey) throw new Error("no token key in the stack's secrets");
  readToken = await mintReadToken(tokenKey, {
    scope: `read:${namespace}`,
    ttlSeconds: 3600,
    sub: "e2e-trust",
  });
  rootKey = await generateSigningJwk("root");
  root1 = await signRoot(rootSigned(1, [rootKey], [stackKey]), [rootKey]);
  servedRoots = [root1];
  proxy = await startTamperingProxy(stack.edgeUrl, stackKey);
  proxy.tamper = withRoots();
  dir = await mkdtemp(join(tmpdir(), "fleetconf-e2e-trust-"));
});

afterAll(async () => {
  // Says whose freshness proofs the run exercised: the edge's own (issue 14 server side) or the
  // proxy's stand-in.
  console.info(
    `trust-attacks: Config-Freshness from the edge ${proxy?.proofs.fromEdge}, added by the proxy ${proxy?.proofs.added}`,
  );
  await Promise.all(clients.map((c) => c.close()));
  await proxy?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Line {
  level: string;
  event: string;
  [field: string]: unknown;
}

function agent(key: string, out: string, extra: { rootRefreshMs?: number } = {}) {
  const lines: Line[] = [];
  const controller = new AbortController();
  const done = runAgent(
    {
      client: {
        edge: proxy.url,
        key,
        trustRoot: root1,
        token: readToken,
        intervalMs: 100,
        maxBackoffMs: 300,
        longPoll: false,
        jwksRefetchMinMs: 0,
        ...(extra.rootRefreshMs ? { rootRefreshMs: extra.rootRefreshMs } : {}),
      },
      out,
      env: { PATH: process.env.PATH },
      exec: `echo "$FLEETCONF_VERSION" >> ${out}.hook.log`,
    },
    controller.signal,
    (level, event, fields) => lines.push({ level, event, ...fields }),
  );
  return {
    lines,
    events: (name: string) => lines.filter((l) => l.event === name),
    stop: () => {
      controller.abort();
      return done;
    },
  };
}

describe("attacks through a tampering proxy (issue 14)", () => {
  it("key swap: a v2 signed by the attacker's new kid, with its JWKS and a self-signed root v2, is refused; --out keeps v1", async () => {
    const key = `${namespace}/swap/app`;
    await publish(key, 1, { owner: "us" });
    const out = join(dir, "swap.json");
    const a = agent(key, out);
    await waitFor(() => a.events("config.written").length === 1, 15_000, "v1 written");
    const forger = await generateSigningJwk("snapshot");
    const forgerRoot = await generateSigningJwk("root");
    const forged = await forge(forger, key, 2, { owner: "attacker" });
    const forgedRoot = await signRoot(rootSigned(2, [forgerRoot], [forger]), [forgerRoot]);
    proxy.tamper = (path, upstream, req) => {
      if (path.startsWith("/.well-known/jwks.json")) return json({ keys: [publicPart(forger)] });
      if (path.startsWith(rootPath))
        return path.includes("version=2") ? json(forgedRoot) : withRoots()(path, upstream, req);
      return isConfig(path, key) ? answerOf(forged) : upstream;
    };
    await waitFor(
      () => a.events("client.error").some((l) => l.code === "root_refused"),
      15_000,
      "root_refused",
    );
    await waitFor(
      () => a.events("client.error").some((l) => l.code === "unknown_kid"),
      15_000,
      "unknown_kid",
    );
    proxy.tamper = withRoots();
    const result = await a.stop();
    expect(await readFile(out, "utf8")).toBe('{"owner":"us"}');
    expect(a.events("config.written").map((l) => l.version)).toEqual([1]);
    expect(result.hooks).toBe(1);
    expect(JSON.parse(await readFile(`${out}.fleetconf.json`, "utf8")).version).toBe(1);
  });

  it("self-vouching cache file: a forged v99 sidecar carrying the forger's JWKS is ignored and sets no floor", async () => {
    const key = `${namespace}/sidecar/app`;
    await publish(key, 1, { real: 1 });
    const out = join(dir, "sidecar.json");
    const forger = await generateSigningJwk("snapshot");
    const forged = await forge(forger, key, 99, { owner: "attacker" });
    await writeFile(
      `${out}.fleetconf.json`,
      JSON.stringify({
        format: "fleetconf-client-cache/1",
        key,
        version: 99,
        etag: forged.meta.etag,
        digest: forged.meta.digest,
        signature: forged.meta.signature,
        body: Buffer.from(forged.body).toString("base64"),
        jwks: { keys: [publicPart(forger)] },
        roots: [await signRoot(rootSigned(2, [rootKey], [forger]), [await generateSigningJwk("root")])],
        savedAt: Date.now(),
      }),
    );
    // The edge is unreachable at start: the forged file is all the agent has.
    proxy.tamper = withRoots((path, upstream) =>
      isConfig(path, key)
        ? { status: 502, headers: { "content-type": "text/plain" }, body: Buffer.from("down") }
        : upstream,
    );
    const a = agent(key, out);
    await waitFor(
      () => a.events("client.error").some((l) => l.code === "cache_invalid"),
      15_000,
      "cache_invalid",
    );
    await waitFor(() => a.events("client.error").some((l) => l.status === 502), 15_000, "the 502");
    await expect(readFile(out)).rejects.toMatchObject({ code: "ENOENT" });
    // The edge is back: the real v1 is written, because 99 never became the floor.
    proxy.tamper = withRoots();
    await waitFor(() => a.events("config.written").length === 1, 15_000, "v1 written");
    await a.stop();
    expect(await readFile(out, "utf8")).toBe('{"real":1}');
    expect(JSON.parse(await readFile(`${out}.fleetconf.json`, "utf8"))).toMatchObject({ version: 1 });
    expect(JSON.parse(await readFile(`${out}.fleetconf.json`, "utf8"))).not.toHaveProperty("jwks");
  });

  it("rollback: the edge's own v1 replayed after v2 (freshness and all) is refused; onChange never goes back", async () => {
    const key = `${namespace}/rollback/app`;
    await publish(key, 1, { v: 1 });
    const s = sdk(key);
    await s.c.ready();
    await publish(key, 2, { v: 2 });
    await waitFor(() => s.c.current()?.version === 2, 15_000, "v2");
    const old = proxy.seen.get(`${key}@1`);
    if (!old) throw new Error("the proxy never saw v1");
    proxy.tamper = withRoots((path, upstream) => (isConfig(path, key) ? old : upstream));
    await waitFor(() => s.errors.some((e) => e.code === "version_rollback"), 15_000, "version_rollback");
    proxy.tamper = withRoots();
    expect(s.c.current()?.version).toBe(2);
    expect(s.changes).toEqual([1, 2]);
  });

  it("freeze: replaying v1's answer and hiding v2 is detected after maxStaleness; v1 stays, v2 follows once released", async () => {
    const key = `${namespace}/freeze/app`;
    await publish(key, 1, { v: 1 });
    const s = sdk(key, { maxStalenessMs: 2000 });
    const stale: FreshnessState[] = [];
    s.c.onStale((state) => stale.push(state));
    await s.c.ready();
    const frozen = proxy.seen.get(`${key}@1`);
    if (!frozen) throw new Error("the proxy never saw v1");
    proxy.tamper = withRoots((path, upstream) => (isConfig(path, key) ? frozen : upstream));
    await publish(key, 2, { v: 2 });
    await waitFor(() => stale.length === 1, 10_000, "onStale");
    expect(stale[0]).toMatchObject({ stale: true, version: 1, proof: { ver: 1 } });
    expect(s.c.current()?.version).toBe(1);
    expect(s.changes).toEqual([1]);
    proxy.tamper = withRoots();
    await waitFor(() => s.c.current()?.version === 2, 15_000, "v2 once released");
    // v2's proof is the newest one now. (Whether the client is fresh again depends on when the
    // origin signed it: it re-signs at half of freshnessTtl, so maxStaleness belongs above that.)
    expect(s.c.freshness().proof).toMatchObject({ key, ver: 2 });
  });

  it("mix-and-match: another key's valid snapshot, and v2 carrying v1's valid freshness proof, are refused", async () => {
    const key = `${namespace}/mix/app`;
    const other = `${namespace}/mix/other`;
    await publish(key, 1, { mine: 1 });
    await publish(other, 1, { theirs: 1 });
    const s = sdk(key);
    await s.c.ready();
    // Learn the other key's real answer through the proxy.
    await fetch(`${proxy.url}/v1/configs/${other}`, { headers: { Authorization: `Bearer ${readToken}` } });
    const theirs = proxy.seen.get(`${other}@1`);
    const mineV1 = proxy.seen.get(`${key}@1`);
    if (!theirs || !mineV1) throw new Error("the proxy has not seen both answers");
    proxy.tamper = withRoots((path, upstream) => (isConfig(path, key) ? theirs : upstream));
    await waitFor(() => s.errors.some((e) => e.code === "key_mismatch"), 15_000, "key_mismatch");
    // v2 is real, but the proof riding on it is v1's (validly signed, another version).
    proxy.tamper = withRoots((path, upstream) =>
      isConfig(path, key) && upstream.status === 200
        ? {
            ...upstream,
            headers: { ...upstream.headers, "config-freshness": mineV1.headers["config-freshness"] ?? "" },
          }
        : upstream,
    );
    await publish(key, 2, { mine: 2 });
    await waitFor(() => s.errors.some((e) => e.code === "freshness_mismatch"), 15_000, "freshness_mismatch");
    expect(s.c.current()?.version).toBe(1);
    expect(s.changes).toEqual([1]);
    proxy.tamper = withRoots();
    await waitFor(() => s.c.current()?.version === 2, 15_000, "v2 once honest");
  });

  it("endless data: an unbounded body, JWKS or root is cut off and refused; nothing is applied", async () => {
    const key = `${namespace}/endless/app`;
    await publish(key, 1, { v: 1 });
    const s = sdk(key);
    await s.c.ready();
    const v1 = proxy.seen.get(`${key}@1`);
    if (!v1) throw new Error("the proxy never saw v1");
    // Every answer (a 304 too) becomes v1's headers over a body that never ends. No
    // Content-Length: the client cannot refuse it up front, only while it streams in.
    proxy.tamper = withRoots((path, upstream) => (isConfig(path, key) ? endless(v1.headers) : upstream));
    await waitFor(() => s.errors.some((e) => /larger than/.test(e.message)), 20_000, "body cap").catch(
      (error) => {
        const asked = proxy.requests.filter((p) => isConfig(p, key)).length;
        const errors = s.errors.map((e) => `${e.code}: ${e.message}`).join(" | ");
        throw new Error(`${error}; ${asked} requests, holding v${s.c.current()?.version}; errors: ${errors}`);
      },
    );
    expect(s.c.current()?.version).toBe(1);

    // A thumbprint-pinned client whose JWKS download never ends, and a root-pinned one whose
    // next root never ends (asked for because v2 names an unknown kid).
    const forger = await generateSigningJwk("snapshot");
    const forged = await forge(forger, key, 3, { v: "forged" });
    proxy.tamper = (path, upstream, req) => {
      if (path.startsWith("/.well-known/")) return endless({ "content-type": "application/json" });
      return isConfig(path, key) ? answerOf(forged) : withRoots()(path, upstream, req);
    };
    const pinned = sdk(key, {
      trustRoot: undefined,
      keyThumbprints: [await jwkThumbprint(publicPart(stackKey))],
    });
    await waitFor(
      () => pinned.errors.some((e) => e.code === "jwks_unavailable" && /larger than/.test(e.message)),
      15_000,
      "JWKS cap",
    );
    await waitFor(
      () => s.errors.some((e) => e.code === "root_unavailable" && /larger than/.test(e.message)),
      15_000,
      "root cap",
    );
    expect(pinned.changes).toEqual([]);
    expect(s.c.current()?.version).toBe(1);
    expect(s.changes).toEqual([1]);
    proxy.tamper = withRoots();
  });

  it("revoked key: once root v2 revokes the stack's key, the edge's own signature no longer verifies; v2's new key does", async () => {
    const key = `${namespace}/revoke/app`;
    await publish(key, 1, { v: 1 });
    const out = join(dir, "revoke.json");
    const a = agent(key, out, { rootRefreshMs: 300 });
    await waitFor(() => a.events("config.written").length === 1, 15_000, "v1 written");
    const successor = await generateSigningJwk("snapshot");
    servedRoots = [root1, await signRoot(rootSigned(2, [rootKey], [successor], [stackKey.kid]), [rootKey])];
    await proxy.signFreshnessWith(successor);
    // The agent's periodic root check accepts v2 of the root along the chain.
    await waitFor(
      () => a.events("client.trust").some((l) => /accepted trust root v2/.test(String(l.message))),
      15_000,
      "root v2",
    );
    await publish(key, 2, { v: 2 }); // signed by the stack's key, which v2 of the root revokes
    await waitFor(
      () => a.events("client.error").some((l) => l.code === "revoked_key"),
      15_000,
      "revoked_key",
    );
    expect(await readFile(out, "utf8")).toBe('{"v":1}');
    // The operator's re-signed v3 under the successor key (as the origin would after rotating).
    const resigned = await forge(successor, key, 3, { v: 3 });
    proxy.tamper = withRoots((path, upstream) => (isConfig(path, key) ? answerOf(resigned) : upstream));
    await waitFor(() => a.events("config.written").length === 2, 15_000, "v3 written");
    await a.stop();
    expect(await readFile(out, "utf8")).toBe('{"v":3}');
    expect(a.events("config.written").map((l) => l.version)).toEqual([1, 3]);
    const sidecar = JSON.parse(await readFile(`${out}.fleetconf.json`, "utf8"));
    expect(sidecar.roots.map((r: RootDocument) => r.signed.version)).toEqual([2]);
    servedRoots = [root1];
    await proxy.signFreshnessWith(stackKey);
    proxy.tamper = withRoots();
  });
});
