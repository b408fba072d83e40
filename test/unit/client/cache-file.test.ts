/**
 * The SDK's cache file: written atomically after each accepted snapshot, re-verified on load,
 * served (marked stale) only when the edge cannot be reached, and ignored with `cache_invalid`
 * when it is corrupt or does not verify.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type ConfigClient,
  type ConfigClientError,
  type ConfigClientOptions,
  createConfigClient,
} from "../../../client";
import { isTempFileName, parseCacheRecord, writeFileAtomic } from "../../../client/cache-file";
import {
  flipByte,
  newSigner,
  problem,
  type Signer,
  serveSnapshot,
  startTestServer,
  type TestServer,
  waitFor,
} from "./support/snapshot-server";

const KEY = "fleet/web/settings";
let server: TestServer;
let signer: Signer;
let dir: string;
let cacheFile: string;
const clients: ConfigClient<unknown>[] = [];

beforeEach(async () => {
  server = await startTestServer();
  signer = await newSigner();
  dir = await mkdtemp(join(tmpdir(), "fleetconf-cache-"));
  cacheFile = join(dir, "settings.cache.json");
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function client(options: Partial<ConfigClientOptions<unknown>> = {}) {
  const errors: ConfigClientError[] = [];
  const c = createConfigClient({
    edge: server.url,
    key: KEY,
    jwks: signer.jwks,
    intervalMs: 20,
    cacheFile,
    maxBackoffMs: 50,
    ...options,
  });
  c.onError((e) => errors.push(e));
  clients.push(c);
  return { c, errors };
}

async function primeCache(version: number, value: unknown): Promise<void> {
  server.handle(serveSnapshot(await signer.sign(KEY, version, value)));
  const { c } = client();
  await c.ready();
  await c.close();
}

describe("writing", () => {
  it("writes the accepted snapshot with what is needed to verify it again, leaving no temp file", async () => {
    await primeCache(4, { color: "blue" });
    const record = parseCacheRecord(JSON.parse(await readFile(cacheFile, "utf8")));
    expect(record).toMatchObject({ key: KEY, version: 4 });
    expect(Buffer.from(record.body, "base64").toString()).toBe('{"color":"blue"}');
    expect(record).not.toHaveProperty("jwks"); // keys are never copied into the cache
    expect(await readdir(dir)).toEqual(["settings.cache.json"]);
  });

  it("replaces the cache file when a newer version is accepted", async () => {
    server.handle(serveSnapshot(await signer.sign(KEY, 1, { v: 1 })));
    const { c } = client();
    await c.ready();
    server.handle(serveSnapshot(await signer.sign(KEY, 2, { v: 2 })));
    await waitFor(() => c.current()?.version === 2);
    await c.close();
    expect(parseCacheRecord(JSON.parse(await readFile(cacheFile, "utf8"))).version).toBe(2);
  });

  it("reports cache_write_failed but still accepts the snapshot when the directory is missing", async () => {
    server.handle(serveSnapshot(await signer.sign(KEY, 1, { v: 1 })));
    const { c, errors } = client({ cacheFile: join(dir, "missing", "cache.json") });
    await expect(c.ready()).resolves.toMatchObject({ version: 1 });
    await waitFor(() => errors.some((e) => e.code === "cache_write_failed"));
  });

  it("writeFileAtomic replaces the whole file and removes its temp file on failure", async () => {
    const file = join(dir, "out.json");
    await writeFile(file, "x".repeat(10_000));
    await writeFileAtomic(file, "short");
    expect(await readFile(file, "utf8")).toBe("short");
    await expect(writeFileAtomic(join(dir, "nope", "out.json"), "x")).rejects.toThrow();
    expect(await readdir(dir)).toEqual(["out.json"]);
  });

  it("recognises only its own temp file names", () => {
    expect(isTempFileName("a.json", ".a.json.0123456789ab.tmp")).toBe(true);
    expect(isTempFileName("a.json", ".a.json.0123456789ab.tmp.bak")).toBe(false);
    expect(isTempFileName("a.json", ".b.json.0123456789ab.tmp")).toBe(false);
    expect(isTempFileName("a.json", "a.json")).toBe(false);
  });
});

describe("starting from the cache", () => {
  it("serves the cached snapshot marked stale when the edge is down, then fresh once it answers 304", async () => {
    await primeCache(3, { from: "cache" });
    server.handle(problem(502, "bad gateway"));
    const { c, errors } = client();
    const ready = await c.ready();
    expect(ready).toMatchObject({ version: 3, value: { from: "cache" }, stale: true });
    expect(errors[0]?.code).toBe("http_error");
    server.handle(serveSnapshot(await signer.sign(KEY, 3, { from: "cache" })));
    await waitFor(() => c.current()?.stale === false);
    expect(server.requests.at(-1)?.headers["if-none-match"]).toBe(ready.etag);
    expect(c.current()?.version).toBe(3);
  });

  it("uses the cache when nothing listens on the edge's port", async () => {
    await primeCache(2, { ok: 1 });
    // Port 9 (discard) is outside every test range and closed on 127.0.0.1.
    const { c } = client({ edge: "http://127.0.0.1:9" });
    await expect(c.ready()).resolves.toMatchObject({ version: 2, stale: true });
  });

  it("moves on to a newer version from the edge after starting stale", async () => {
    await primeCache(3, { v: 3 });
    server.handle(problem(503, "down"));
    const { c } = client();
    await c.ready();
    server.handle(serveSnapshot(await signer.sign(KEY, 4, { v: 4 })));
    await waitFor(() => c.current()?.version === 4);
    expect(c.current()?.stale).toBe(false);
  });

  it("treats the cached version as a floor: an older version from the edge is refused", async () => {
    await primeCache(9, { v: 9 });
    server.handle(serveSnapshot(await signer.sign(KEY, 8, { v: 8 })));
    const { c, errors } = client();
    await waitFor(() => errors.some((e) => e.code === "version_rollback"));
    expect(c.current()).toMatchObject({ version: 9, stale: true });
  });

  it("ignores a corrupt cache file with cache_invalid", async () => {
    await writeFile(cacheFile, "{ this is not json");
    server.handle(problem(502, "down"));
    const { c, errors } = client();
    await expect(c.ready()).rejects.toMatchObject({ code: "http_error" });
    expect(errors[0]?.code).toBe("cache_invalid");
    expect(c.current()).toBeUndefined();
  });

  it("ignores a cache file whose body was altered (re-verified on load)", async () => {
    await primeCache(3, { amount: 100 });
    const record = JSON.parse(await readFile(cacheFile, "utf8")) as { body: string };
    record.body = Buffer.from(flipByte(Buffer.from(record.body, "base64"), 11)).toString("base64");
    await writeFile(cacheFile, JSON.stringify(record));
    server.handle(problem(502, "down"));
    const { c, errors } = client();
    await expect(c.ready()).rejects.toMatchObject({ code: "http_error" });
    expect(errors[0]).toMatchObject({ code: "cache_invalid" });
    expect(errors[0]?.message).toContain("digest_mismatch");
  });

  it("ignores a cache file signed by a key the client does not trust", async () => {
    await primeCache(3, { a: 1 });
    const stranger = await newSigner();
    server.handle(problem(502, "down"));
    const { c, errors } = client({ jwks: stranger.jwks });
    await expect(c.ready()).rejects.toMatchObject({ code: "http_error" });
    expect(errors[0]?.message).toContain("unknown_kid");
  });

  it("ignores a cache file written for another key", async () => {
    await primeCache(3, { a: 1 });
    server.handle(problem(502, "down"));
    const { c, errors } = client({ key: "fleet/web/other" });
    await expect(c.ready()).rejects.toMatchObject({ code: "http_error" });
    expect(errors[0]?.code).toBe("cache_invalid");
  });

  it("never trusts keys a cache file carries: a forged snapshot with the forger's JWKS is refused and sets no floor", async () => {
    const forger = await newSigner();
    const forged = await forger.sign(KEY, 99, { owned: true });
    await writeFile(
      cacheFile,
      JSON.stringify({
        format: "fleetconf-client-cache/1",
        key: KEY,
        version: 99,
        etag: forged.meta.etag,
        digest: forged.meta.digest,
        signature: forged.meta.signature,
        body: Buffer.from(forged.body).toString("base64"),
        jwks: forger.jwks,
        savedAt: 0,
      }),
    );
    server.handle(problem(502, "down"));
    const { c, errors } = client();
    const changes: number[] = [];
    c.onChange((s) => changes.push(s.version));
    await expect(c.ready()).rejects.toMatchObject({ code: "http_error" });
    expect(errors[0]).toMatchObject({ code: "cache_invalid" });
    expect(errors[0]?.message).toContain("unknown_kid");
    // The real edge comes back with version 5: accepted, because 99 never became the floor.
    server.handle(serveSnapshot(await signer.sign(KEY, 5, { real: true })));
    await waitFor(() => c.current()?.version === 5);
    expect(changes).toEqual([5]);
    await c.close(); // waits for the queued cache write
    const record = parseCacheRecord(JSON.parse(await readFile(cacheFile, "utf8")));
    expect(record.version).toBe(5);
  });
});
