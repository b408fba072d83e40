/**
 * Long-poll on GET /v1/configs/{key} (DESIGN §8, RFC 7240 `Prefer: wait`), inside workerd with the
 * real KV, Cache API and origin: held while If-None-Match still matches, 200 as soon as the key
 * changes, 304 at the deadline, one shared check per key however many wait, a bounded number of
 * waiters, a disconnect frees its slot, and an upstream failure while parked never turns into an
 * error the client would not have got without waiting.
 */
import { describe, expect, it } from "vitest";
import { bucketOf, inCohort, kvKeys } from "../../core";
import type { FleetRecorder } from "../../worker/fleet/recorder";
import type { EdgeServices } from "../../worker/services";
import {
  publishFixture,
  putNamespaceSettings,
  readTokenFor,
  uniqueNamespace,
} from "../support/snapshot-fixture";
import { bearer, edge, env, TestClock } from "./harness";
import { FlakyOrigin, freshKey, publicKey, publish, purgeInit, setNamespace } from "./origin-support";

interface Options {
  clock?: TestClock;
  origin?: FlakyOrigin;
  maxWaiters?: number;
  revalidateMs?: number;
  cache?: () => Cache;
  onRecorder?: (recorder: FleetRecorder) => void;
}

function longPollEdge(options: Options = {}) {
  const origin = options.origin ?? new FlakyOrigin();
  let services: EdgeServices | undefined;
  const app = edge({
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.cache ? { cache: options.cache } : {}),
    vars: { HEAD_SOURCE: "origin" },
    origin: origin.wrap,
    originTimeoutMs: 200,
    headRevalidateMs: options.revalidateMs ?? 100,
    maxWaiters: options.maxWaiters ?? 10_000,
    inspect: (built) => {
      services = built;
    },
    telemetry: {
      fleet: { flushIntervalMs: 600_000 },
      sink: () => async () => undefined,
      inspect: (t) => options.onRecorder?.(t.recorder),
    },
  });
  const waiters = () => {
    if (!services) throw new Error("services not built yet");
    return services.waiters;
  };
  return { app, origin, waiters };
}

function waitFor(etag: string, prefer: string, extra: Record<string, string> = {}): RequestInit {
  return { headers: { "If-None-Match": etag, Prefer: prefer, ...extra } };
}

async function etagOf(app: ReturnType<typeof edge>, key: string, init: RequestInit = {}): Promise<string> {
  const res = await app.fetch(`/v1/configs/${key}`, init);
  expect(res.status).toBe(200);
  const etag = res.headers.get("ETag");
  if (etag === null) throw new Error("no ETag");
  return etag;
}

const tick = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await tick(5);
  }
}

describe("long-poll: held until the key changes", () => {
  it("answers 200 with the new version as soon as the key changes, with Preference-Applied", async () => {
    const { key } = await publicKey({ v: 1 });
    const { app, waiters } = longPollEdge();
    const etag = await etagOf(app, key);
    const started = Date.now();
    const held = app.fetch(`/v1/configs/${key}`, waitFor(etag, "wait=20"));
    await until(() => waiters().parked === 1);
    await publish(key, { v: 2 });
    await app.fetch("/internal/purge", purgeInit({ keys: [key] }));
    const res = await held;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ v: 2 });
    expect(res.headers.get("Config-Version")).toBe("2");
    expect(res.headers.get("Preference-Applied")).toBe("wait=20");
    expect(res.headers.get("Cache-Control")).toMatch(/^public, max-age=5/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(waiters().parked).toBe(0);
  });

  it("answers 304 at the deadline when nothing changed", async () => {
    const { key } = await publicKey({ v: 1 });
    const { app, waiters } = longPollEdge();
    const etag = await etagOf(app, key);
    const started = Date.now();
    const res = await app.fetch(`/v1/configs/${key}`, waitFor(etag, "wait=1"));
    const took = Date.now() - started;
    expect(res.status).toBe(304);
    expect(res.headers.get("ETag")).toBe(etag);
    expect(res.headers.get("Preference-Applied")).toBe("wait=1");
    expect(took).toBeGreaterThanOrEqual(950);
    expect(took).toBeLessThan(3000);
    expect(waiters().parked).toBe(0);
  });

  it("is woken by a change the periodic check finds in the Cache API (a zone purge, memory untouched)", async () => {
    const { key } = await publicKey({ v: 1 });
    const { app } = longPollEdge({ revalidateMs: 50 });
    const etag = await etagOf(app, key);
    const held = app.fetch(`/v1/configs/${key}`, waitFor(etag, "wait=10"));
    await tick(100);
    await publish(key, { v: 2 });
    await edge().fetch("/internal/purge", purgeInit({ keys: [key], tiers: ["cache"] }));
    const res = await held;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ v: 2 });
  });

  it("is woken by a local purge with HEAD_SOURCE=kv too", async () => {
    const namespace = uniqueNamespace();
    await putNamespaceSettings(env, namespace, { visibility: "public" });
    const key = `${namespace}/svc/conf`;
    await publishFixture(env, { key, content: { v: 1 } });
    const app = edge();
    const etag = await etagOf(app, key);
    const held = app.fetch(`/v1/configs/${key}`, waitFor(etag, "wait=10"));
    await tick(50);
    await publishFixture(env, { key, version: 2, content: { v: 2 } });
    await app.fetch("/internal/purge", purgeInit({ keys: [key] }));
    const res = await held;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ v: 2 });
    expect(res.headers.get("Preference-Applied")).toBe("wait=10");
  });
});

describe("long-poll: fleet recording", () => {
  it("records the version a held answer gave the client", async () => {
    const { key } = await publicKey({ v: 1 });
    let recorder: FleetRecorder | undefined;
    const { app, waiters } = longPollEdge({ onRecorder: (r) => (recorder = r) });
    const etag = await etagOf(app, key, { headers: { "Config-Client-Id": "lp-1" } });
    const held = app.fetch(`/v1/configs/${key}`, waitFor(etag, "wait=20", { "Config-Client-Id": "lp-1" }));
    await until(() => waiters().parked === 1);
    await publish(key, { v: 2 });
    await app.fetch("/internal/purge", purgeInit({ keys: [key] }));
    expect((await held).status).toBe(200);
    const batches = recorder?.takeBatches(Date.now() + 600_000) ?? [];
    const sightings = batches.flatMap((batch) => batch.sightings).filter((s) => s.clientId === "lp-1");
    expect(sightings.map((s) => s.version)).toEqual([2]);
  });
});

describe("long-poll: what is answered at once", () => {
  it("clamps a wait above 60 s to 60 and says so", async () => {
    const { key } = await publicKey({ v: 1 });
    const { app, waiters } = longPollEdge();
    const etag = await etagOf(app, key);
    const held = app.fetch(`/v1/configs/${key}`, waitFor(etag, "wait=600"));
    await until(() => waiters().parked === 1);
    await publish(key, { v: 2 });
    await app.fetch("/internal/purge", purgeInit({ keys: [key] }));
    const res = await held;
    expect(res.status).toBe(200);
    expect(res.headers.get("Preference-Applied")).toBe("wait=60");
  });

  for (const prefer of ["wait=abc", "wait=-1", "wait=0", "wait", "wait=1.5", "respond-async", "wait=;"]) {
    it(`ignores a malformed or out-of-range Prefer (${prefer}): 304 at once, no Preference-Applied`, async () => {
      const { key } = await publicKey({ v: 1 });
      const { app, waiters } = longPollEdge();
      const etag = await etagOf(app, key);
      const started = Date.now();
      const res = await app.fetch(`/v1/configs/${key}`, waitFor(etag, prefer));
      expect(res.status).toBe(304);
      expect(res.headers.get("Preference-Applied")).toBeNull();
      expect(Date.now() - started).toBeLessThan(900);
      expect(waiters().parked).toBe(0);
    });
  }

  it("answers at once without If-None-Match, with a stale one, for HEAD and for ?version=N", async () => {
    const { key } = await publicKey({ v: 1 });
    const { app } = longPollEdge();
    const etag = await etagOf(app, key);
    const started = Date.now();
    const plain = await app.fetch(`/v1/configs/${key}`, { headers: { Prefer: "wait=5" } });
    expect(plain.status).toBe(200);
    const stale = await app.fetch(`/v1/configs/${key}`, waitFor('"0-old"', "wait=5"));
    expect(stale.status).toBe(200);
    const head = await app.fetch(`/v1/configs/${key}`, { method: "HEAD", ...waitFor(etag, "wait=5") });
    expect(head.status).toBe(304);
    const pinned = await app.fetch(`/v1/configs/${key}?version=1`, waitFor(etag, "wait=5"));
    expect(pinned.status).toBe(304);
    for (const res of [plain, stale, head, pinned]) expect(res.headers.get("Preference-Applied")).toBeNull();
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("checks a private namespace's token before parking", async () => {
    const { key, namespace } = freshKey();
    await setNamespace(namespace, { visibility: "private" });
    await publish(key, { v: 1 });
    const { app, waiters } = longPollEdge();
    const token = await readTokenFor(env, `read:${namespace}`);
    const etag = await etagOf(app, key, bearer(token));
    const refused = await app.fetch(`/v1/configs/${key}`, waitFor(etag, "wait=5"));
    expect(refused.status).toBe(401);
    expect(waiters().parked).toBe(0);
    const other = await readTokenFor(env, "read:someoneelse");
    const forbidden = await app.fetch(
      `/v1/configs/${key}`,
      waitFor(etag, "wait=5", { Authorization: `Bearer ${other}` }),
    );
    expect(forbidden.status).toBe(403);
    const held = await app.fetch(
      `/v1/configs/${key}`,
      waitFor(etag, "wait=1", { Authorization: `Bearer ${token}` }),
    );
    expect(held.status).toBe(304);
    expect(held.headers.get("Preference-Applied")).toBe("wait=1");
    expect(held.headers.get("Cache-Control")).toMatch(/^private, /);
  });

  it("compares If-None-Match with the client's own rollout cohort", async () => {
    const { key } = await publicKey({ v: 1 });
    await publish(key, { v: 2 }, { "Config-Rollout": "30" });
    const ids = Array.from({ length: 200 }, (_, i) => `client-${i}`);
    const candidate = ids.find((id) => inCohort(bucketOf(key, id), 30));
    const stable = ids.find((id) => !inCohort(bucketOf(key, id), 30));
    if (!candidate || !stable) throw new Error("no client id in each cohort");
    const { app, waiters } = longPollEdge();
    const v1 = await etagOf(app, key, { headers: { "Config-Client-Id": stable } });
    const v2 = await etagOf(app, key, { headers: { "Config-Client-Id": candidate } });
    expect(v1).not.toBe(v2);
    // The candidate cohort holding the stable tag is behind: answered at once with v2.
    const behind = await app.fetch(
      `/v1/configs/${key}`,
      waitFor(v1, "wait=5", { "Config-Client-Id": candidate }),
    );
    expect(behind.status).toBe(200);
    expect(behind.headers.get("Config-Version")).toBe("2");
    expect(waiters().parked).toBe(0);
    // Each cohort holding its own version is parked.
    const held = await app.fetch(
      `/v1/configs/${key}`,
      waitFor(v2, "wait=1", { "Config-Client-Id": candidate }),
    );
    expect(held.status).toBe(304);
    expect(held.headers.get("Preference-Applied")).toBe("wait=1");
    expect(held.headers.get("Vary")).toBe("Config-Client-Id");
  });
});

describe("long-poll: bounded and shared", () => {
  it("answers 503 with Retry-After past MAX_WAITERS, and takes waiters again once slots free", async () => {
    const { key } = await publicKey({ v: 1 });
    const { app, waiters } = longPollEdge({ maxWaiters: 2 });
    const etag = await etagOf(app, key);
    const held = [1, 2].map(() => app.fetch(`/v1/configs/${key}`, waitFor(etag, "wait=1")));
    await until(() => waiters().parked === 2);
    const refused = await app.fetch(`/v1/configs/${key}`, waitFor(etag, "wait=1"));
    expect(refused.status).toBe(503);
    expect(refused.headers.get("Retry-After")).toBe("1");
    expect(refused.headers.get("Content-Type")).toContain("application/problem+json");
    expect(((await refused.json()) as { code: string }).code).toBe("too_many_waiters");
    // A plain conditional GET is still answered while the waiters are full.
    expect((await app.fetch(`/v1/configs/${key}`, { headers: { "If-None-Match": etag } })).status).toBe(304);
    for (const res of await Promise.all(held)) expect(res.status).toBe(304);
    expect(waiters().parked).toBe(0);
    expect((await app.fetch(`/v1/configs/${key}`, waitFor(etag, "wait=1"))).status).toBe(304);
  });

  it("frees a waiter's slot as soon as its client disconnects", async () => {
    const { key } = await publicKey({ v: 1 });
    const { app, waiters } = longPollEdge({ maxWaiters: 1 });
    const etag = await etagOf(app, key);
    const client = new AbortController();
    const held = app.fetch(`/v1/configs/${key}`, { ...waitFor(etag, "wait=30"), signal: client.signal });
    await until(() => waiters().parked === 1);
    const started = Date.now();
    client.abort();
    await until(() => waiters().parked === 0, 500);
    expect(Date.now() - started).toBeLessThan(500);
    await held;
    expect(waiters().watchedKeys).toBe(0);
    // The slot is usable again at once.
    const next = app.fetch(`/v1/configs/${key}`, waitFor(etag, "wait=1"));
    await until(() => waiters().parked === 1);
    expect((await next).status).toBe(304);
  });

  it("gives many waiters on a key one periodic check and one origin read per change", async () => {
    const { key } = await publicKey({ v: 1 });
    let headMatches = 0;
    const counting = (): Cache => {
      const real = caches.default;
      return {
        match: (request, options) => {
          const url = request instanceof Request ? request.url : String(request);
          if (url.includes(`/head/${key}`)) headMatches++;
          return real.match(request, options);
        },
        put: (request, response) => real.put(request, response),
        delete: (request, options) => real.delete(request, options),
      } as Cache;
    };
    const { app, origin, waiters } = longPollEdge({ revalidateMs: 50, cache: counting });
    const etag = await etagOf(app, key);
    const count = 300;
    const originReads = origin.readsOf(key);
    const kvReads = app.kv.readsOf(kvKeys.head(key));
    headMatches = 0;
    const held = Array.from({ length: count }, () =>
      app.fetch(`/v1/configs/${key}`, waitFor(etag, "wait=20")),
    );
    await until(() => waiters().parked === count, 5000);
    const parkedAt = Date.now();
    await tick(500);
    const ticks = (Date.now() - parkedAt) / 50;
    // One Cache API read per tick for all of them, not one per waiter.
    expect(headMatches).toBeGreaterThan(0);
    expect(headMatches).toBeLessThanOrEqual(Math.ceil(ticks) + 3);
    expect(origin.readsOf(key)).toBe(originReads);

    await publish(key, { v: 2 });
    headMatches = 0;
    await app.fetch("/internal/purge", purgeInit({ keys: [key] }));
    const answers = await Promise.all(held);
    // Woken together, they shared one Cache API read (not one each) before the one origin read.
    expect(headMatches).toBeLessThanOrEqual(3);
    for (const res of answers) expect(res.status).toBe(200);
    expect(new Set(answers.map((res) => res.headers.get("Config-Version")))).toEqual(new Set(["2"]));
    // The purge woke all of them; one origin read answered all of them, and KV's head none.
    expect(origin.readsOf(key)).toBe(originReads + 1);
    expect(app.kv.readsOf(kvKeys.head(key))).toBe(kvReads);
    expect(waiters().parked).toBe(0);
  });
});

describe("long-poll: upstream failures while parked", () => {
  it("answers the last good state at the deadline when the origin and KV fail meanwhile", async () => {
    const { key, namespace } = freshKey();
    await setNamespace(namespace, {
      visibility: "public",
      maxAge: 1,
      staleWhileRevalidate: 0,
      staleIfError: 0,
    });
    await publish(key, { v: 1 });
    const clock = new TestClock();
    const { app, origin, waiters } = longPollEdge({ clock });
    const etag = await etagOf(app, key);
    const held = app.fetch(`/v1/configs/${key}`, waitFor(etag, "wait=2"));
    await until(() => waiters().parked === 1);
    origin.mode = "fail";
    app.kv.mode = "fail";
    clock.advance(10); // past max-age and stale-if-error: nothing cached may be served any more
    await app.fetch("/internal/purge", purgeInit({ keys: [key] }));
    // A plain read now fails: that is what the waiter must not be given.
    expect((await app.fetch(`/v1/configs/${key}`, { headers: { "If-None-Match": etag } })).status).toBe(503);
    const res = await held;
    expect(res.status).toBe(304);
    expect(res.headers.get("ETag")).toBe(etag);
    expect(res.headers.get("Preference-Applied")).toBe("wait=2");
  });

  it("answers 404 at once when the key is deleted while parked", async () => {
    const { key } = await publicKey({ v: 1 });
    const { app, waiters } = longPollEdge();
    const etag = await etagOf(app, key);
    const held = app.fetch(`/v1/configs/${key}`, waitFor(etag, "wait=20"));
    await until(() => waiters().parked === 1);
    const { admin } = await import("./origin-support");
    expect((await admin("DELETE", `/v1/configs/${key}`)).status).toBeLessThan(300);
    await app.fetch("/internal/purge", purgeInit({ keys: [key] }));
    const res = await held;
    expect(res.status).toBe(404);
  });
});
