/**
 * The consistent head path (docs/delivery.md): after a purge or on a miss the edge reads a key's
 * head from the origin's Durable Object through the real ORIGIN binding (GET /internal/heads),
 * keeps it in the location's Cache API for every isolate, falls back to KV's head when the origin
 * fails, and revalidates isolate memory against the Cache API so a purge that reaches only the
 * Cache API (a zone purge) still reaches every isolate.
 */
import { describe, expect, it } from "vitest";
import type { HeadRecord } from "../../core";
import { kvKeys } from "../../core";
import { edge, env, TestClock } from "./harness";
import { admin, FlakyOrigin, originBinding, publicKey, publish, purgeInit } from "./origin-support";

const ORIGIN_HEADS = { HEAD_SOURCE: "origin" } as const;

function originEdge(options: { clock?: TestClock; origin?: FlakyOrigin; revalidateMs?: number } = {}) {
  const origin = options.origin ?? new FlakyOrigin();
  const app = edge({
    ...(options.clock ? { clock: options.clock } : {}),
    vars: ORIGIN_HEADS,
    origin: origin.wrap,
    originTimeoutMs: 200,
    headRevalidateMs: options.revalidateMs ?? 250,
  });
  return { app, origin };
}

async function kvHead(key: string): Promise<HeadRecord> {
  const text = await env.CONFIGS.get(kvKeys.head(key), "text");
  if (text === null) throw new Error(`no KV head for ${key}`);
  return JSON.parse(text) as HeadRecord;
}

/** Puts an older head back into KV: what a lagging KV replica in another location serves. */
async function lagKv(key: string, head: HeadRecord): Promise<void> {
  await env.CONFIGS.put(kvKeys.head(key), JSON.stringify(head));
}

describe("GET /internal/heads/{key} on the origin", () => {
  const secret = { "Fleetconf-Purge-Secret": env.PURGE_SECRET };

  it("answers the head record the drain writes to KV", async () => {
    const { key } = await publicKey({ v: 1 });
    await publish(key, { v: 2 });
    const res = await originBinding().fetch(`https://origin.internal/internal/heads/${key}`, {
      headers: secret,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(await res.json()).toEqual(await kvHead(key));
  });

  it("names a running rollout's candidate like the KV head", async () => {
    const { key } = await publicKey({ v: 1 });
    await publish(key, { v: 2 }, { "Config-Rollout": "30" });
    const res = await originBinding().fetch(`https://origin.internal/internal/heads/${key}`, {
      headers: secret,
    });
    const head = (await res.json()) as HeadRecord;
    expect(head.version).toBe(1);
    expect(head.rollout?.candidate.version).toBe(2);
    expect(head).toEqual(await kvHead(key));
  });

  it("answers 404 for a key never published and a tombstone for a deleted one", async () => {
    const { key, namespace } = await publicKey({ v: 1 });
    const absent = await originBinding().fetch(
      `https://origin.internal/internal/heads/${namespace}/none/here`,
      {
        headers: secret,
      },
    );
    expect(absent.status).toBe(404);
    expect(absent.headers.get("Content-Type")).toContain("application/problem+json");
    expect((await admin("DELETE", `/v1/configs/${key}`)).status).toBeLessThan(300);
    const gone = await originBinding().fetch(`https://origin.internal/internal/heads/${key}`, {
      headers: secret,
    });
    expect(gone.status).toBe(200);
    expect(await gone.json()).toMatchObject({ key, version: 1, deleted: true, rollout: null });
  });

  it("refuses a missing or wrong secret and an invalid key", async () => {
    const { key } = await publicKey();
    const url = `https://origin.internal/internal/heads/${key}`;
    expect((await originBinding().fetch(url)).status).toBe(401);
    expect((await originBinding().fetch(url, { headers: { "Fleetconf-Purge-Secret": "nope" } })).status).toBe(
      401,
    );
    const bad = await originBinding().fetch("https://origin.internal/internal/heads/Bad/Key", {
      headers: secret,
    });
    expect(bad.status).toBe(400);
    expect((await originBinding().fetch(url, { method: "POST", headers: secret })).status).toBe(405);
  });
});

describe("heads from the origin (HEAD_SOURCE=origin)", () => {
  it("serves the origin's head after a purge while KV still holds the old one", async () => {
    const { key } = await publicKey({ v: 1 });
    const { app, origin } = originEdge();
    expect(await (await app.fetch(`/v1/configs/${key}`)).json()).toEqual({ v: 1 });
    const old = await kvHead(key);
    await publish(key, { v: 2 });
    await lagKv(key, old);
    const readsBefore = app.kv.readsOf(kvKeys.head(key));

    expect((await app.fetch("/internal/purge", purgeInit({ keys: [key] }))).status).toBe(200);
    const res = await app.fetch(`/v1/configs/${key}`);
    expect(await res.json()).toEqual({ v: 2 });
    expect(res.headers.get("Config-Version")).toBe("2");
    expect(res.headers.get("Cache-Status")).toContain("detail=origin");
    expect(origin.readsOf(key)).toBe(2);
    // KV's head was never consulted: its lag plays no part.
    expect(app.kv.readsOf(kvKeys.head(key))).toBe(readsBefore);
  });

  it("stores the origin's head in the location's Cache API, so one origin read serves every isolate", async () => {
    const { key } = await publicKey({ v: 1 });
    const clock = new TestClock();
    const first = originEdge({ clock });
    await first.app.fetch(`/v1/configs/${key}`);
    expect(first.origin.readsOf(key)).toBe(1);
    const other = originEdge({ clock });
    const res = await other.app.fetch(`/v1/configs/${key}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Status")).toContain("detail=cache");
    expect(other.origin.readsOf(key)).toBe(0);
  });

  for (const mode of ["fail", "500", "hang"] as const) {
    it(`falls back to KV's head when the origin ${mode === "fail" ? "is unreachable" : mode === "500" ? "answers 500" : "hangs"}`, async () => {
      const { key } = await publicKey({ v: 1 });
      const origin = new FlakyOrigin();
      origin.mode = mode;
      const { app } = originEdge({ origin });
      const res = await app.fetch(`/v1/configs/${key}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ v: 1 });
      expect(res.headers.get("Cache-Status")).toContain("detail=kv");
      expect(origin.readsOf(key)).toBe(1);
      expect(app.kv.readsOf(kvKeys.head(key))).toBe(1);
    });
  }

  it("serves the last good head (stale-if-error) when the origin and KV both fail", async () => {
    const { key } = await publicKey({ v: 1 });
    const { app, origin } = originEdge();
    await app.fetch(`/v1/configs/${key}`);
    await app.fetch("/internal/purge", purgeInit({ keys: [key] }));
    origin.mode = "fail";
    app.kv.mode = "fail";
    const res = await app.fetch(`/v1/configs/${key}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ v: 1 });
    expect(res.headers.get("Cache-Status")).toContain("fwd=stale");
    expect(res.headers.get("Cache-Status")).toContain("detail=memory/kv-error");
  });

  it("never replaces a newer head with KV's older one when the origin fails", async () => {
    const { key } = await publicKey({ v: 1 });
    const old = await kvHead(key);
    await publish(key, { v: 2 });
    const { app, origin } = originEdge();
    expect(await (await app.fetch(`/v1/configs/${key}`)).json()).toEqual({ v: 2 });
    await lagKv(key, old);
    await app.fetch("/internal/purge", purgeInit({ keys: [key] }));
    origin.mode = "fail";
    const res = await app.fetch(`/v1/configs/${key}`);
    expect(await res.json()).toEqual({ v: 2 });
    expect(res.headers.get("Cache-Status")).toContain("fwd=stale");
  });

  it("adopts the origin's head only once its snapshot is readable, else KV's", async () => {
    const { key } = await publicKey({ v: 1 });
    const old = await kvHead(key);
    await publish(key, { v: 2 });
    // As if v2's snapshot had not reached KV yet: the origin names it, KV cannot serve it.
    await env.CONFIGS.delete(kvKeys.snapshot(key, 2));
    await lagKv(key, old);
    const { app, origin } = originEdge();
    const res = await app.fetch(`/v1/configs/${key}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ v: 1 });
    expect(res.headers.get("Cache-Status")).toContain("detail=kv");
    expect(origin.readsOf(key)).toBe(1);
  });

  it("confirms with KV when the origin says a key was never published", async () => {
    // A fixture written only to KV: an origin that knows nothing of it must not hide it.
    const { key } = await publicKey({ v: 1 });
    const { app } = originEdge({ origin: new FlakyOrigin() });
    const absent = await app.fetch(`/v1/configs/${key.replace("/conf", "/absent")}`);
    expect(absent.status).toBe(404);
    expect((await app.fetch(`/v1/configs/${key}`)).status).toBe(200);
  });
});

describe("memory revalidation against the Cache API", () => {
  async function warmed(clock: TestClock, headSource: "origin" | "kv") {
    const { key } = await publicKey({ v: 1 });
    const origin = new FlakyOrigin();
    const app = edge({
      clock,
      vars: { HEAD_SOURCE: headSource },
      origin: origin.wrap,
      originTimeoutMs: 200,
      headRevalidateMs: 250,
    });
    await app.fetch(`/v1/configs/${key}`); // miss: head into memory and the Cache API
    await app.fetch(`/v1/configs/${key}`); // memory hit, no comparison due yet
    await publish(key, { v: 2 });
    // A zone purge by tag: the location's Cache API only, never this isolate's memory.
    const purge = await edge({ clock }).fetch(
      "/internal/purge",
      purgeInit({ keys: [key], tiers: ["cache"] }),
    );
    expect(await purge.json()).toEqual({ purged: { keys: 1, namespaces: 0 } });
    return { key, app, origin };
  }

  it("picks up a change within HEAD_REVALIDATE_MS although memory was never purged", async () => {
    const clock = new TestClock();
    const { key, app, origin } = await warmed(clock, "origin");
    const reads = origin.readsOf(key);
    // Not due yet: memory answers, untouched by the Cache-API-only purge.
    expect(await (await app.fetch(`/v1/configs/${key}`)).json()).toEqual({ v: 1 });
    expect(origin.readsOf(key)).toBe(reads);
    clock.advance(0.25);
    // Due: this answer still comes from memory (nothing awaited); the comparison runs after it,
    // finds the Cache API entry gone and reads the origin once.
    const served = await app.fetch(`/v1/configs/${key}`);
    expect(await served.json()).toEqual({ v: 1 });
    expect(served.headers.get("Cache-Status")).toContain("detail=memory");
    expect(origin.readsOf(key)).toBe(reads + 1);
    const next = await app.fetch(`/v1/configs/${key}`);
    expect(await next.json()).toEqual({ v: 2 });
    expect(next.headers.get("Cache-Status")).toContain("detail=memory");
  });

  it("adopts a newer head another isolate put in the Cache API without reading the origin", async () => {
    const clock = new TestClock();
    const { key, app, origin } = await warmed(clock, "origin");
    // Another isolate of the location reads the new head and stores it in the Cache API.
    clock.advance(0.1);
    const other = originEdge({ clock });
    expect(await (await other.app.fetch(`/v1/configs/${key}`)).json()).toEqual({ v: 2 });
    const reads = origin.readsOf(key);
    clock.advance(0.25);
    await app.fetch(`/v1/configs/${key}`);
    expect(await (await app.fetch(`/v1/configs/${key}`)).json()).toEqual({ v: 2 });
    expect(origin.readsOf(key)).toBe(reads);
  });

  it("does not read the origin every interval while the Cache API itself fails", async () => {
    const clock = new TestClock();
    const { key } = await publicKey({ v: 1 });
    let failing = false;
    const flaky = (): Cache => {
      const real = caches.default;
      return {
        match: (request, options) =>
          failing ? Promise.reject(new Error("cache down")) : real.match(request, options),
        put: (request, response) => real.put(request, response),
        delete: (request, options) => real.delete(request, options),
      } as Cache;
    };
    const origin = new FlakyOrigin();
    const app = edge({ clock, vars: ORIGIN_HEADS, origin: origin.wrap, headRevalidateMs: 250, cache: flaky });
    await app.fetch(`/v1/configs/${key}`);
    const reads = origin.readsOf(key);
    failing = true;
    for (let i = 0; i < 5; i++) {
      clock.advance(0.3);
      expect(await (await app.fetch(`/v1/configs/${key}`)).json()).toEqual({ v: 1 });
    }
    // A failed Cache API read is not a purge: no origin read per interval.
    expect(origin.readsOf(key)).toBe(reads);
  });

  it("does not revalidate with HEAD_SOURCE=kv: memory serves its head until max-age, as before", async () => {
    const clock = new TestClock();
    const { key, app, origin } = await warmed(clock, "kv");
    clock.advance(0.25);
    await app.fetch(`/v1/configs/${key}`);
    expect(await (await app.fetch(`/v1/configs/${key}`)).json()).toEqual({ v: 1 });
    expect(origin.headReads).toEqual([]);
    clock.advance(5);
    await app.fetch(`/v1/configs/${key}`); // stale-while-revalidate: refreshes from KV
    expect(await (await app.fetch(`/v1/configs/${key}`)).json()).toEqual({ v: 2 });
  });

  it("bounds a lost purge by the head's max-age: the Cache API copy ages like any head", async () => {
    const clock = new TestClock();
    const { key } = await publicKey({ v: 1 });
    const { app, origin } = originEdge({ clock });
    await app.fetch(`/v1/configs/${key}`);
    await publish(key, { v: 2 }); // and no purge reaches this location
    clock.advance(4);
    expect(await (await app.fetch(`/v1/configs/${key}`)).json()).toEqual({ v: 1 });
    clock.advance(1.1); // past max-age=5: stale-while-revalidate refreshes from the origin
    await app.fetch(`/v1/configs/${key}`);
    expect(await (await app.fetch(`/v1/configs/${key}`)).json()).toEqual({ v: 2 });
    expect(origin.readsOf(key)).toBe(2);
  });
});

describe("POST /internal/purge tiers", () => {
  it("refuses an unknown or empty tiers list", async () => {
    const app = edge();
    for (const tiers of [[], ["disk"], "cache", [1]]) {
      const res = await app.fetch("/internal/purge", purgeInit({ keys: [], tiers }));
      expect(res.status).toBe(400);
      expect(res.headers.get("Content-Type")).toContain("application/problem+json");
    }
  });
});
