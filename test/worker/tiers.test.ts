import { describe, expect, it } from "vitest";
import { kvKeys } from "../../core";
import { ByteBoundedLru, ENTRY_OVERHEAD_BYTES, memoryBudgetFrom } from "../../worker/cache/memory-lru";
import { publicConfig } from "../support/snapshot-fixture";
import { edge, env, TestClock } from "./harness";

const publicKey = (content: unknown = { tier: true }) => publicConfig(env, { content });

describe("tiered cache: memory → caches.default → KV", () => {
  it("reads KV on a cold miss and says fwd=miss; detail=kv", async () => {
    const { key } = await publicKey();
    const app = edge();
    const res = await app.fetch(`/v1/configs/${key}`);
    expect(res.headers.get("Cache-Status")).toBe("fleetconf-edge; fwd=miss; ttl=5; detail=kv");
    expect(res.headers.get("Server-Timing")).toContain('desc="kv"');
    expect(app.kv.reads).toEqual(
      expect.arrayContaining([
        kvKeys.head(key),
        kvKeys.snapshot(key, 1),
        kvKeys.namespace(key.split("/")[0] ?? ""),
      ]),
    );
  });

  it("serves a hot key from memory without touching KV", async () => {
    const { key } = await publicKey();
    const app = edge();
    await app.fetch(`/v1/configs/${key}`);
    const readsAfterMiss = app.kv.reads.length;
    app.clock.advance(2);
    const res = await app.fetch(`/v1/configs/${key}`);
    expect(res.headers.get("Cache-Status")).toBe("fleetconf-edge; hit; ttl=3; detail=memory");
    expect(res.headers.get("Server-Timing")).toContain('desc="memory"');
    expect(app.kv.reads.length).toBe(readsAfterMiss);
  });

  it("serves from the Cache API in a new isolate (fresh memory) without touching KV", async () => {
    const { key } = await publicKey({ shared: "location" });
    const clock = new TestClock();
    const first = edge({ clock });
    await first.fetch(`/v1/configs/${key}`); // waits for the background Cache API writes
    clock.advance(1);
    const second = edge({ clock });
    const res = await second.fetch(`/v1/configs/${key}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ shared: "location" });
    expect(res.headers.get("Cache-Status")).toBe("fleetconf-edge; hit; ttl=4; detail=cache");
    expect(second.kv.reads).toEqual([]);
    // ...and promotes what it found into its own memory.
    expect((await second.fetch(`/v1/configs/${key}`)).headers.get("Cache-Status")).toContain("detail=memory");
  });

  it("tags every Cache API entry with Cache-Tag so a zone purge by tag reaches it", async () => {
    const { namespace, key } = await publicKey();
    await edge().fetch(`/v1/configs/${key}`);
    const base = "https://fleetconf.cache";
    const head = await caches.default.match(`${base}/head/${key}`);
    const snap = await caches.default.match(`${base}/snap/${key}/1`);
    const settings = await caches.default.match(`${base}/ns/${namespace}`);
    expect(head?.headers.get("Cache-Tag")).toBe(`fc:key:${key},fc:ns:${namespace}`);
    expect(snap?.headers.get("Cache-Tag")).toBe(`fc:key:${key},fc:ns:${namespace}`);
    expect(settings?.headers.get("Cache-Tag")).toBe(`fc:ns:${namespace}`);
    expect(Number(head?.headers.get("Fleetconf-Fetched-At"))).toBeGreaterThan(0);
  });

  it("falls back to the Cache API when memory evicted the snapshot", async () => {
    const clock = new TestClock();
    const big = "x".repeat(20_000);
    const { key: a } = await publicKey({ big });
    const { key: b } = await publicKey({ big });
    // Room for the small records and one 20 KB snapshot, not two.
    const app = edge({ clock, memoryBytes: 30_000 });
    await app.fetch(`/v1/configs/${a}`);
    await app.fetch(`/v1/configs/${b}`);
    const reads = app.kv.reads.length;
    const res = await app.fetch(`/v1/configs/${a}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Status")).toContain("detail=cache");
    expect(app.kv.reads.length).toBe(reads);
  });

  it("keeps isolate memory within its byte budget", async () => {
    const budget = 64 * 1024;
    const clock = new TestClock();
    const keys: string[] = [];
    for (let i = 0; i < 12; i++) keys.push((await publicKey({ i, pad: "p".repeat(8000) })).key);
    let peak = 0;
    const captured: { memory?: ByteBoundedLru<unknown> } = {};
    const app = edge({ clock, memoryBytes: budget, inspect: (s) => (captured.memory = s.memory) });
    for (const key of keys) {
      expect((await app.fetch(`/v1/configs/${key}`)).status).toBe(200);
      peak = Math.max(peak, captured.memory?.bytes ?? 0);
    }
    expect(peak).toBeGreaterThan(budget / 2);
    expect(peak).toBeLessThanOrEqual(budget);
  });
});

describe("ByteBoundedLru", () => {
  it("evicts least recently used entries until the bytes fit", () => {
    const lru = new ByteBoundedLru<string>(3 * (100 + ENTRY_OVERHEAD_BYTES + 2));
    lru.set("a", "A", 100);
    lru.set("b", "B", 100);
    lru.set("c", "C", 100);
    expect(lru.get("a")).toBe("A"); // a is now the most recent
    lru.set("d", "D", 100);
    expect(lru.has("b")).toBe(false);
    expect([lru.has("a"), lru.has("c"), lru.has("d")]).toEqual([true, true, true]);
    expect(lru.bytes).toBeLessThanOrEqual(lru.maxBytes);
  });

  it("charges entries by size, so one large entry displaces many small ones", () => {
    const small = 100 + "k10".length * 2 + ENTRY_OVERHEAD_BYTES;
    const lru = new ByteBoundedLru<number>(20 * small);
    for (let i = 0; i < 20; i++) lru.set(`k${i}`, i, 100);
    expect(lru.size).toBeGreaterThanOrEqual(19);
    // Leaves room for at most three small entries beside it.
    lru.set("big", -1, 17 * small - "big".length * 2 - ENTRY_OVERHEAD_BYTES);
    expect(lru.has("big")).toBe(true);
    expect(lru.size).toBeLessThan(5);
    expect(lru.bytes).toBeLessThanOrEqual(20 * small);
  });

  it("refuses an entry larger than the whole budget and keeps the rest", () => {
    const lru = new ByteBoundedLru<number>(5 * ENTRY_OVERHEAD_BYTES);
    lru.set("small", 1, 10);
    expect(lru.set("huge", 2, 5 * ENTRY_OVERHEAD_BYTES)).toBe(false);
    expect(lru.has("small")).toBe(true);
  });

  it("keeps its byte count exact through replace, delete and deletePrefix", () => {
    const lru = new ByteBoundedLru<number>(1_000_000);
    lru.set("s:a/b@1", 1, 500);
    lru.set("s:a/b@1", 1, 700);
    lru.set("s:a/b@2", 2, 300);
    lru.set("s:a/b/c@1", 3, 300);
    expect(lru.deletePrefix("s:a/b@")).toBe(2);
    expect(lru.has("s:a/b/c@1")).toBe(true);
    lru.delete("s:a/b/c@1");
    expect(lru.bytes).toBe(0);
  });

  it("reads MEMORY_CACHE_BYTES, defaulting to 32 MiB", () => {
    expect(memoryBudgetFrom("1048576")).toBe(1048576);
    expect(memoryBudgetFrom(undefined)).toBe(32 * 1024 * 1024);
    expect(memoryBudgetFrom("-5")).toBe(32 * 1024 * 1024);
    expect(memoryBudgetFrom("lots")).toBe(32 * 1024 * 1024);
  });
});
