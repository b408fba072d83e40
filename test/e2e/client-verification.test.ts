/**
 * The SDK against the real edge and origin (`wrangler dev`), through a local proxy that can
 * tamper with the network: a flipped byte and a replayed older version are refused and the last
 * good snapshot stays; with the edge unreachable a restarted client starts from its cache file,
 * and recovers once the edge is back.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type ConfigClient, type ConfigClientError, createConfigClient, type Jwks } from "../../client";
import type { PrivateJwk } from "../../core/jws";
import { mintReadToken } from "../../core/tokens";
import { type EdgeProxy, startEdgeProxy } from "../unit/client/support/proxy";
import { waitFor } from "../unit/client/support/snapshot-server";
import { adminTokenFor, edgeServes, type OriginClient, originClient, uniqueNamespace } from "./support/http";

const stack = inject("stack");
// A private namespace (the default): the SDK must present a read token.
const namespace = uniqueNamespace("client");
const key = `${namespace}/api/limits`;
const jwks = JSON.parse(stack.secrets.PUBLIC_JWKS) as Jwks;

let admin: OriginClient;
let proxy: EdgeProxy;
let readToken: string;
let dir: string;
const clients: ConfigClient<unknown>[] = [];

async function publish(version: number, value: unknown): Promise<void> {
  const answer = await admin.publish(key, JSON.stringify(value));
  expect(answer.status, answer.text).toBe(201);
  // Wait until the edge itself serves it, so the test measures the client, not propagation.
  await edgeServes(stack.edgeUrl, key, version, { headers: { Authorization: `Bearer ${readToken}` } });
}

function client(cacheFile?: string) {
  const errors: ConfigClientError[] = [];
  const c = createConfigClient({
    edge: proxy.url,
    key,
    jwks,
    token: readToken,
    intervalMs: 100,
    maxBackoffMs: 300,
    ...(cacheFile ? { cacheFile } : {}),
  });
  c.onError((e) => errors.push(e));
  clients.push(c);
  return { c, errors };
}

beforeAll(async () => {
  admin = originClient(stack, await adminTokenFor(stack));
  // max-age 0 so the SDK may poll at its own 100 ms interval (it never polls faster than max-age).
  const settings = await admin.setNamespace(namespace, { maxAge: 0 });
  expect(settings.status, settings.text).toBe(200);
  const [tokenKey] = JSON.parse(stack.secrets.TOKEN_KEYS) as PrivateJwk[];
  if (!tokenKey) throw new Error("no token key in the stack's secrets");
  readToken = await mintReadToken(tokenKey, {
    scope: `read:${namespace}`,
    ttlSeconds: 3600,
    sub: "e2e-client",
  });
  proxy = await startEdgeProxy(stack.edgeUrl);
  dir = await mkdtemp(join(tmpdir(), "fleetconf-e2e-client-"));
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await proxy?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("SDK over a tampering network", () => {
  const cacheFile = () => join(dir, "limits.cache.json");
  let first: ReturnType<typeof client>;

  it("accepts the edge's real signed snapshot", async () => {
    await publish(1, { rps: 100 });
    first = client(cacheFile());
    const snapshot = await first.c.ready();
    expect(snapshot).toMatchObject({ key, version: 1, value: { rps: 100 }, stale: false });
    expect(first.errors).toEqual([]);
  });

  it("refuses a body with one flipped byte and keeps the last good snapshot", async () => {
    const before = first.c.current();
    proxy.mode = { kind: "flip" };
    await publish(2, { rps: 200 });
    await waitFor(() => first.errors.some((e) => e.code === "digest_mismatch"), 10_000, "digest_mismatch");
    expect(proxy.counts.tampered).toBeGreaterThan(0);
    expect(first.c.current()).toBe(before);
    expect(first.c.current()?.version).toBe(1);
  });

  it("accepts the new version once the network is honest again", async () => {
    proxy.mode = { kind: "pass" };
    await waitFor(() => first.c.current()?.version === 2, 10_000, "v2");
    expect(first.c.current()?.value).toEqual({ rps: 200 });
  });

  it("refuses a replay of an older, validly signed version", async () => {
    first.errors.length = 0;
    proxy.mode = { kind: "replay", version: 1 };
    await waitFor(() => first.errors.some((e) => e.code === "version_rollback"), 10_000, "version_rollback");
    expect(first.c.current()?.version).toBe(2);
    proxy.mode = { kind: "pass" };
  });

  it("starts a restarted client from its cache file while the edge answers 502, marked stale", async () => {
    await first.c.close();
    proxy.mode = { kind: "status", status: 502 };
    const restarted = client(cacheFile());
    const snapshot = await restarted.c.ready();
    expect(snapshot).toMatchObject({ version: 2, value: { rps: 200 }, stale: true });
    expect(restarted.errors.some((e) => e.code === "http_error" && e.status === 502)).toBe(true);

    proxy.mode = { kind: "pass" };
    await waitFor(() => restarted.c.current()?.stale === false, 10_000, "fresh again");
    expect(restarted.c.current()?.version).toBe(2);
    await publish(3, { rps: 300 });
    await waitFor(() => restarted.c.current()?.version === 3, 10_000, "v3");
    await restarted.c.close();
  });

  it("starts from the cache file when the connection is dropped, then recovers", async () => {
    proxy.mode = { kind: "drop" };
    const restarted = client(cacheFile());
    await expect(restarted.c.ready()).resolves.toMatchObject({ version: 3, stale: true });
    expect(restarted.errors.some((e) => e.code === "network_error")).toBe(true);
    proxy.mode = { kind: "pass" };
    await publish(4, { rps: 400 });
    await waitFor(() => restarted.c.current()?.version === 4, 10_000, "v4");
    expect(restarted.c.current()?.stale).toBe(false);
  });

  it("is refused by the real edge without a read token (401 → unauthorized)", async () => {
    const anonymous = createConfigClient({ edge: proxy.url, key, jwks, intervalMs: 100 });
    clients.push(anonymous);
    await expect(anonymous.ready()).rejects.toMatchObject({ code: "unauthorized", status: 401 });
  });
});
