import { describe, expect, it } from "vitest";
import {
  BUCKETS,
  bucketOf,
  DEFAULT_MIN_CLIENTS,
  inCohort,
  parseRolloutHeader,
  type RolloutHead,
  shareAt,
} from "../../../core";

const ids = Array.from({ length: 10_000 }, (_, i) => `client-${i}`);

describe("cohorts", () => {
  it("puts a client in the same bucket every time", () => {
    expect(bucketOf("a/b", "client-1")).toBe(bucketOf("a/b", "client-1"));
  });

  it("spreads clients evenly over the buckets (30% ± 2 of 10,000)", () => {
    const share = ids.filter((id) => inCohort(bucketOf("payments/prod/flags", id), 30)).length / ids.length;
    expect(share).toBeGreaterThan(0.28);
    expect(share).toBeLessThan(0.32);
  });

  it("keeps every client of a lower share in every higher share (monotone)", () => {
    for (const id of ids.slice(0, 2000)) {
      const bucket = bucketOf("k/x", id);
      expect(bucket).toBeGreaterThanOrEqual(0);
      expect(bucket).toBeLessThan(BUCKETS);
      let was = false;
      for (const p of [0, 1, 5, 10, 30, 60, 99.99, 100]) {
        const now = inCohort(bucket, p);
        if (was) expect(now).toBe(true);
        was = now;
      }
    }
  });

  it("draws different cohorts for different keys", () => {
    const a = ids.filter((id) => inCohort(bucketOf("a/x", id), 50));
    const b = ids.filter((id) => inCohort(bucketOf("b/x", id), 50));
    const overlap = a.filter((id) => b.includes(id)).length / a.length;
    expect(overlap).toBeGreaterThan(0.4);
    expect(overlap).toBeLessThan(0.6);
  });

  it("puts nobody at 0% and everybody at 100%", () => {
    expect(ids.some((id) => inCohort(bucketOf("k/x", id), 0))).toBe(false);
    expect(ids.every((id) => inCohort(bucketOf("k/x", id), 100))).toBe(true);
  });
});

describe("shareAt", () => {
  const base: RolloutHead = {
    candidate: { version: 2, etag: '"2-x"', publishedAt: 0 },
    mode: "linear",
    percent: 10,
    start: 10,
    step: 10,
    everySeconds: 60,
    startedAt: 1_000_000,
  };
  it("grows a linear rollout by step every period, capped at 100", () => {
    expect(shareAt(base, 1_000_000)).toBe(10);
    expect(shareAt(base, 1_000_000 + 59_999)).toBe(10);
    expect(shareAt(base, 1_000_000 + 60_000)).toBe(20);
    expect(shareAt(base, 1_000_000 + 5 * 60_000)).toBe(60);
    expect(shareAt(base, 1_000_000 + 60 * 60_000)).toBe(100);
  });
  it("holds a fixed rollout at its percent", () => {
    expect(shareAt({ ...base, mode: "fixed", percent: 30 }, 9e12)).toBe(30);
  });
});

describe("parseRolloutHeader", () => {
  it("parses a percentage", () => {
    expect(parseRolloutHeader("30")).toMatchObject({ ok: true, value: { mode: "fixed", percent: 30 } });
    expect(parseRolloutHeader("12.5")).toMatchObject({ ok: true, value: { percent: 12.5 } });
  });
  it("parses a linear schedule", () => {
    expect(parseRolloutHeader("linear; start=10; step=10; every=60")).toEqual({
      ok: true,
      value: { mode: "linear", percent: 10, start: 10, step: 10, everySeconds: 60, gates: null, ring: null },
    });
  });
  it("parses health gates after a percentage or a linear schedule", () => {
    expect(parseRolloutHeader("30; max-rejected=10; min-clients=20; bake=300")).toEqual({
      ok: true,
      value: {
        mode: "fixed",
        percent: 30,
        start: 30,
        step: 0,
        everySeconds: 0,
        gates: { maxRejected: 10, minClients: 20, bakeSeconds: 300 },
        ring: null,
      },
    });
    expect(parseRolloutHeader("linear; start=10; step=10; every=60; max-rejected=2.5")).toMatchObject({
      ok: true,
      value: { mode: "linear", gates: { maxRejected: 2.5, minClients: DEFAULT_MIN_CLIENTS, bakeSeconds: 0 } },
    });
    expect(parseRolloutHeader("30; bake=60")).toMatchObject({
      ok: true,
      value: { gates: { maxRejected: null, bakeSeconds: 60 } },
    });
  });
  it.each([
    "101",
    "-1",
    "abc",
    "linear",
    "linear; start=10; step=0; every=60",
    "linear; start=10; step=5; every=0",
    "linear; start=1; step=1; every=1; x=2",
    "linear; start=1; start=2; step=1; every=1",
    "30; max-rejected=101",
    "30; max-rejected=ten",
    "30; min-clients=5",
    "30; max-rejected=5; min-clients=0",
    "30; max-rejected=5; min-clients=1.5",
    "30; bake=-1",
    "30; bake=2592001",
    "30; max-rejected=5; max-rejected=6",
    "30; start=10",
  ])("refuses %j", (header) => {
    expect(parseRolloutHeader(header).ok).toBe(false);
  });
});
