/**
 * Staged rollouts at the edge (docs/rollouts.md): cohort selection from the head and the edge
 * clock, monotone cohorts, no client id → stable until 100%, private caching during a rollout, and
 * both versions hot in memory. Runs the real edge app in workerd against real KV and Cache API,
 * with a clock the test moves.
 */
import { describe, expect, it } from "vitest";
import {
  bucketOf,
  fullShareAt,
  inCohort,
  kvKeys,
  type RolloutHead,
  servesCandidate,
  shareAt,
} from "../../core";
import {
  headOf,
  publicConfig,
  rolloutFixture as sharedRolloutFixture,
  writeHead,
} from "../support/snapshot-fixture";
import { edge, env, TestClock } from "./harness";

const ids = Array.from({ length: 1000 }, (_, i) => `host-${i}.eu:${i % 7}`);

/** v1 live, v2 a candidate rolled out as `rollout` says (its startedAt defaults to the clock's now). */
const rolloutFixture = (
  rollout: Parameters<typeof sharedRolloutFixture>[1],
  settings?: Parameters<typeof sharedRolloutFixture>[2],
) => sharedRolloutFixture(env, rollout, settings);

const fixed = (percent: number) => ({
  mode: "fixed" as const,
  percent,
  start: percent,
  step: 0,
  everySeconds: 0,
});

async function versionsOf(app: ReturnType<typeof edge>, key: string, clients: readonly string[]) {
  const out = new Map<string, number>();
  for (const id of clients) {
    const res = await app.fetch(`/v1/configs/${key}`, { headers: { "Config-Client-Id": id } });
    expect(res.status).toBe(200);
    out.set(id, Number(res.headers.get("Config-Version")));
  }
  return out;
}

const candidates = (versions: Map<string, number>) =>
  [...versions].filter(([, v]) => v === 2).map(([id]) => id);

describe("cohort selection at the edge", () => {
  it("serves the candidate to exactly the clients whose bucket is in the share, the same on every repeat", async () => {
    const { key } = await rolloutFixture(fixed(30));
    const app = edge();
    const first = await versionsOf(app, key, ids);
    for (const id of ids) expect(first.get(id)).toBe(inCohort(bucketOf(key, id), 30) ? 2 : 1);
    const share = candidates(first).length / ids.length;
    expect(share).toBeGreaterThan(0.26);
    expect(share).toBeLessThan(0.34);
    // A new isolate (fresh memory) computes the same cohorts.
    expect(await versionsOf(edge(), key, ids)).toEqual(first);
  });

  it("sends the body, signature and ETag of the version it selected, and says which side it chose", async () => {
    const { key, stable, candidate } = await rolloutFixture(fixed(50));
    const app = edge();
    const inside = ids.find((id) => inCohort(bucketOf(key, id), 50)) ?? "";
    const outside = ids.find((id) => !inCohort(bucketOf(key, id), 50)) ?? "";
    const onCandidate = await app.fetch(`/v1/configs/${key}`, { headers: { "Config-Client-Id": inside } });
    expect(await onCandidate.json()).toEqual({ v: 2 });
    expect(onCandidate.headers.get("ETag")).toBe(candidate.meta.etag);
    expect(onCandidate.headers.get("Config-Signature")).toBe(candidate.meta.signature);
    expect(onCandidate.headers.get("Config-Rollout")).toBe("candidate; share=50");
    const onStable = await app.fetch(`/v1/configs/${key}`, { headers: { "Config-Client-Id": outside } });
    expect(await onStable.json()).toEqual({ v: 1 });
    expect(onStable.headers.get("ETag")).toBe(stable.meta.etag);
    expect(onStable.headers.get("Config-Rollout")).toBe("stable; share=50");
  });

  it("gives requests without a client id the stable version below 100%", async () => {
    const { key } = await rolloutFixture(fixed(99.99));
    const res = await edge().fetch(`/v1/configs/${key}`);
    expect(res.headers.get("Config-Version")).toBe("1");
    expect(res.headers.get("Config-Rollout")).toBe("stable; share=99.99");
  });

  it("serves the candidate to everyone, with or without a client id, at 100%", async () => {
    const { key } = await rolloutFixture(fixed(100));
    const app = edge();
    expect((await app.fetch(`/v1/configs/${key}`)).headers.get("Config-Version")).toBe("2");
    expect(new Set((await versionsOf(app, key, ids.slice(0, 200))).values())).toEqual(new Set([2]));
  });

  it("serves nobody the candidate at 0% (a dark launch), but still by ?version=N", async () => {
    const { key } = await rolloutFixture(fixed(0));
    const app = edge();
    expect(new Set((await versionsOf(app, key, ids.slice(0, 200))).values())).toEqual(new Set([1]));
    const pinned = await app.fetch(`/v1/configs/${key}?version=2`);
    expect(pinned.status).toBe(200);
    expect(pinned.headers.get("Config-Rollout")).toBeNull();
  });
});

describe("a linear rollout grows with the edge clock", () => {
  it("moves from start by step every period, keeps earlier clients, and reaches everyone at 100", async () => {
    const clock = new TestClock();
    const { key } = await rolloutFixture(
      { mode: "linear", percent: 10, start: 10, step: 30, everySeconds: 60, startedAt: clock.ms },
      // A long max-age: the share grows without the edge reading the head again.
      { visibility: "public", maxAge: 3600 },
    );
    const app = edge({ clock });
    const clients = ids.slice(0, 600);
    const shares: number[] = [];
    let previous: string[] = [];
    for (const [advance, expected] of [
      [0, 10],
      [59, 10],
      [1, 40],
      [60, 70],
      [60, 100],
      [600, 100],
    ] as const) {
      clock.advance(advance);
      const versions = await versionsOf(app, key, clients);
      const now = candidates(versions);
      for (const id of previous) expect(versions.get(id), `${id} left the cohort`).toBe(2);
      for (const id of clients) expect(versions.get(id)).toBe(inCohort(bucketOf(key, id), expected) ? 2 : 1);
      const probe = await app.fetch(`/v1/configs/${key}`, { headers: { "Config-Client-Id": "probe" } });
      expect(probe.headers.get("Config-Rollout")).toMatch(new RegExp(`; share=${expected}$`));
      shares.push(now.length / clients.length);
      previous = now;
    }
    expect(shares[0]).toBeLessThan(shares[2] ?? 0);
    expect(shares.at(-1)).toBe(1);
    // At 100% even a request without a client id gets the candidate.
    expect((await app.fetch(`/v1/configs/${key}`)).headers.get("Config-Version")).toBe("2");
    // One head read for the whole schedule: the share comes from the clock, not from KV.
    expect(app.kv.readsOf(kvKeys.head(key))).toBe(1);
  });
});

describe("caching during a rollout", () => {
  it("marks the current version private, even in a public namespace, and varies by Config-Client-Id", async () => {
    const { key } = await rolloutFixture(fixed(30));
    const res = await edge().fetch(`/v1/configs/${key}`, { headers: { "Config-Client-Id": "a" } });
    expect(res.headers.get("Cache-Control")).toBe(
      "private, max-age=5, stale-while-revalidate=30, stale-if-error=86400",
    );
    expect(res.headers.get("Vary")).toBe("Config-Client-Id");
  });

  it("keeps ?version=N public and immutable: one representation for every client", async () => {
    const { key } = await rolloutFixture(fixed(30));
    const res = await edge().fetch(`/v1/configs/${key}?version=2`, { headers: { "Config-Client-Id": "a" } });
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
  });

  it("goes back to the namespace's public Cache-Control once the head has no rollout", async () => {
    const { key, candidate } = await rolloutFixture(fixed(30));
    await writeHead(env, headOf(candidate));
    const res = await edge().fetch(`/v1/configs/${key}`, { headers: { "Config-Client-Id": "a" } });
    expect(res.headers.get("Cache-Control")).toMatch(/^public, /);
    expect(res.headers.get("Config-Rollout")).toBeNull();
  });

  it("answers 304 to a client revalidating the version it was selected, 200 with the other version otherwise", async () => {
    const { key, stable, candidate } = await rolloutFixture(fixed(50));
    const app = edge();
    const inside = ids.find((id) => inCohort(bucketOf(key, id), 50)) ?? "";
    const outside = ids.find((id) => !inCohort(bucketOf(key, id), 50)) ?? "";
    const hit = await app.fetch(`/v1/configs/${key}`, {
      headers: { "Config-Client-Id": inside, "If-None-Match": candidate.meta.etag },
    });
    expect(hit.status).toBe(304);
    expect(hit.headers.get("Cache-Control")).toMatch(/^private, /);
    const miss = await app.fetch(`/v1/configs/${key}`, {
      headers: { "Config-Client-Id": outside, "If-None-Match": candidate.meta.etag },
    });
    expect(miss.status).toBe(200);
    expect(miss.headers.get("ETag")).toBe(stable.meta.etag);
  });

  it("keeps both versions hot in isolate memory: one KV read per snapshot however many clients", async () => {
    const { key } = await rolloutFixture(fixed(50));
    const app = edge();
    await versionsOf(app, key, ids.slice(0, 100));
    expect(app.kv.readsOf(kvKeys.snapshot(key, 1))).toBe(1);
    expect(app.kv.readsOf(kvKeys.snapshot(key, 2))).toBe(1);
  });
});

describe("rollout heads that must not be adopted", () => {
  it("answers 503 snapshot-missing rather than adopt a head whose candidate is not in KV", async () => {
    const { key, snapshot: stable } = await publicConfig(env, { prefix: "ro" });
    await writeHead(
      env,
      headOf(stable, {
        candidate: { version: 2, etag: '"2-missing"', publishedAt: Date.now() },
        ...fixed(50),
        startedAt: Date.now(),
      }),
    );
    const res = await edge().fetch(`/v1/configs/${key}`, { headers: { "Config-Client-Id": "a" } });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: "upstream_unavailable", reason: "snapshot-missing" });
  });

  it.each([
    [
      "a linear rollout without a period",
      { mode: "linear", percent: 10, start: 10, step: 10, everySeconds: 0 },
    ],
    ["a share above 100", { mode: "fixed", percent: 120, start: 120, step: 0, everySeconds: 0 }],
  ] as const)("treats %s as a corrupt record (503)", async (_, rollout) => {
    const { key } = await rolloutFixture(rollout);
    const res = await edge().fetch(`/v1/configs/${key}`, { headers: { "Config-Client-Id": "a" } });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ reason: "corrupt-record" });
  });

  it("treats a candidate that is not above the stable version as a corrupt record", async () => {
    const { key, snapshot: stable } = await publicConfig(env, { prefix: "ro" });
    await writeHead(
      env,
      headOf(stable, {
        candidate: { version: 1, etag: stable.meta.etag, publishedAt: 0 },
        ...fixed(50),
        startedAt: 0,
      }),
    );
    expect((await edge().fetch(`/v1/configs/${key}`)).status).toBe(503);
  });
});

describe("the core helpers the edge decides with", () => {
  const linear = (start: number, step: number, everySeconds: number): RolloutHead => ({
    candidate: { version: 2, etag: '"2-x"', publishedAt: 0 },
    mode: "linear",
    percent: start,
    start,
    step,
    everySeconds,
    startedAt: 1_000_000,
  });

  it("says when a linear rollout reaches everyone, to the step, even with fractional steps", () => {
    expect(fullShareAt(linear(10, 10, 60))).toBe(1_000_000 + 9 * 60_000);
    const tiny = linear(0.1, 0.1, 1);
    const at = fullShareAt(tiny) ?? 0;
    expect(shareAt(tiny, at)).toBe(100);
    expect(shareAt(tiny, at - 1000)).toBeLessThan(100);
    expect(fullShareAt(linear(100, 10, 60))).toBe(1_000_000);
  });

  it("says never for a fixed share below 100, and at once for 100", () => {
    const fixedAt = (percent: number): RolloutHead => ({ ...linear(0, 1, 1), ...fixed(percent) });
    expect(fullShareAt(fixedAt(99.99))).toBeNull();
    expect(fullShareAt(fixedAt(100))).toBe(1_000_000);
  });

  it("serves the candidate without a client id only at 100%", () => {
    const head = linear(50, 25, 60);
    expect(servesCandidate("a/b", head, null, 1_000_000 + 60_000)).toBe(false);
    expect(servesCandidate("a/b", head, null, 1_000_000 + 120_000)).toBe(true);
  });
});
