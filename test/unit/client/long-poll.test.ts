/**
 * Long-poll (RFC 7240 `Prefer: wait`, DESIGN §8) in the SDK, against a local edge double that
 * holds conditional requests as the edge does: the client asks for a wait on every conditional
 * request, re-polls at once while the edge says `Preference-Applied`, falls back to interval
 * polling when it does not, honours 503 + Retry-After with jitter, aborts a held request on
 * `close()`, and verifies a long-polled 200 exactly like a polled one.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { appliedWaitSeconds } from "../../../client/headers";
import { delayAfterFailure, pollAgainAtOnce } from "../../../client/schedule";
import { useSdkHarness } from "./support/sdk-harness";
import {
  flipByte,
  longPollEdge,
  newSigner,
  problem,
  rejection,
  serveSnapshot,
  waitFor,
} from "./support/snapshot-server";

const KEY = "shop/prod/limits";
const harness = useSdkHarness(KEY);
const client = harness.client;
/** So long that only a long-poll can explain a second request within a test's lifetime. */
const NO_INTERVAL = 60_000;

const configRequests = () => harness.server.requests.filter((r) => r.url.startsWith("/v1/configs/"));

describe("long-poll when the edge honours it", () => {
  it("asks for the wait on conditional requests only, and re-polls at once after each held answer", async () => {
    const edge = longPollEdge(await harness.signer.sign(KEY, 1, { v: 1 }));
    harness.server.handle(edge.handler);
    const { c, errors } = client({ intervalMs: NO_INTERVAL, waitSeconds: 1 });
    await c.ready();
    // Each held request ends after its 1 s wait with a 304; with a 60 s interval only an
    // immediate re-poll can produce the fourth request within a few seconds.
    await waitFor(() => configRequests().length >= 4, 6000, "four requests");
    const [first, ...rest] = configRequests();
    expect(first?.headers.prefer).toBeUndefined();
    expect(first?.headers["if-none-match"]).toBeUndefined();
    for (const r of rest) {
      expect(r.headers.prefer).toBe("wait=1");
      expect(r.headers["if-none-match"]).toBe(c.current()?.etag);
    }
    const [, second, third, fourth] = configRequests();
    // Held ≈ 1 s each, then the next request at once (no interval sleep).
    expect((third?.at ?? 0) - (second?.at ?? 0)).toBeGreaterThanOrEqual(990);
    expect((fourth?.at ?? 0) - (third?.at ?? 0)).toBeLessThan(1990);
    expect(errors).toEqual([]);
  });

  it("delivers a publish while the request is held, without waiting for any interval", async () => {
    const edge = longPollEdge(await harness.signer.sign(KEY, 1, { v: 1 }));
    harness.server.handle(edge.handler);
    const { c, errors } = client({ intervalMs: NO_INTERVAL, waitSeconds: 30 });
    await c.ready();
    await waitFor(() => edge.parked() === 1, 2000, "the client's request to be held");
    const changed = new Promise<number>((resolve) => c.onChange((s) => resolve(s.version)));
    const published = Date.now();
    edge.publish(await harness.signer.sign(KEY, 2, { v: 2 }));
    expect(await changed).toBe(2);
    expect(Date.now() - published).toBeLessThan(1000);
    expect(c.current()?.value).toEqual({ v: 2 });
    // …and the client is parked again on the new version at once.
    await waitFor(() => edge.parked() === 1, 2000, "the next held request");
    expect(configRequests().at(-1)?.headers["if-none-match"]).toBe(c.current()?.etag);
    expect(errors).toEqual([]);
  });

  it("gives a held request the wait plus requestTimeoutMs before timing it out", async () => {
    const edge = longPollEdge(await harness.signer.sign(KEY, 1, {}));
    harness.server.handle(edge.handler);
    const { c, errors } = client({ intervalMs: NO_INTERVAL, waitSeconds: 1, requestTimeoutMs: 300 });
    await c.ready();
    // Held for 1 s, three times the plain timeout: no error.
    await waitFor(() => configRequests().length >= 3, 5000, "two held requests to end");
    expect(errors).toEqual([]);
    // An edge that never answers is given up on after wait + margin (1 s + 300 ms).
    harness.server.handle(() => undefined);
    await waitFor(() => errors.length > 0, 5000, "a timeout");
    expect(errors[0]).toMatchObject({ code: "network_error" });
    expect(errors[0]?.message).toContain("timed out after 1300 ms");
  });

  it("aborts a held request on close() and returns promptly", async () => {
    const edge = longPollEdge(await harness.signer.sign(KEY, 1, {}));
    harness.server.handle(edge.handler);
    const { c } = client({ intervalMs: NO_INTERVAL, waitSeconds: 60 });
    await c.ready();
    await waitFor(() => edge.parked() === 1, 2000, "a held request");
    const started = Date.now();
    await c.close();
    expect(Date.now() - started).toBeLessThan(1000);
    await waitFor(() => edge.abandoned === 1, 2000, "the edge to see the connection go");
    expect(edge.parked()).toBe(0);
    const count = configRequests().length;
    await new Promise((r) => setTimeout(r, 200));
    expect(configRequests().length).toBe(count);
  });
});

describe("long-poll and the cache file", () => {
  it("confirms the cache file's snapshot without a hold, so ready() is not delayed by the wait", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fleetconf-longpoll-"));
    try {
      const cacheFile = join(dir, "flags.json");
      const edge = longPollEdge(await harness.signer.sign(KEY, 4, { v: 4 }));
      harness.server.handle(edge.handler);
      const writer = client({ cacheFile, intervalMs: NO_INTERVAL });
      await writer.c.ready();
      await writer.c.close();
      const before = configRequests().length;
      const restarted = client({ cacheFile, intervalMs: NO_INTERVAL, waitSeconds: 30 });
      const started = Date.now();
      const snapshot = await restarted.c.ready();
      expect(Date.now() - started).toBeLessThan(1000);
      expect(snapshot).toMatchObject({ version: 4, stale: false });
      const [confirming] = configRequests().slice(before);
      expect(confirming?.headers["if-none-match"]).toBe(snapshot.etag);
      expect(confirming?.headers.prefer).toBeUndefined();
      // Then it long-polls at once.
      await waitFor(() => edge.parked() === 1, 2000, "the next request to be held");
      expect(configRequests().at(-1)?.headers.prefer).toBe("wait=30");
      await restarted.c.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("long-poll and the cache file (stale)", () => {
  it("confirms a snapshot served stale during an outage without a hold once the edge is back", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fleetconf-longpoll-"));
    try {
      const cacheFile = join(dir, "flags.json");
      const edge = longPollEdge(await harness.signer.sign(KEY, 4, { v: 4 }));
      harness.server.handle(edge.handler);
      const writer = client({ cacheFile, intervalMs: NO_INTERVAL });
      await writer.c.ready();
      await writer.c.close();
      harness.server.handle(problem(502, "down"));
      const restarted = client({ cacheFile, intervalMs: 50, maxBackoffMs: 50, waitSeconds: 30 });
      expect(await restarted.c.ready()).toMatchObject({ version: 4, stale: true });
      harness.server.handle(edge.handler);
      const back = Date.now();
      await waitFor(() => restarted.c.current()?.stale === false, 2000, "the edge to confirm it");
      expect(Date.now() - back).toBeLessThan(1000);
      await waitFor(() => edge.parked() === 1, 2000, "a long-poll once confirmed");
      await restarted.c.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("verification of long-polled answers", () => {
  it("refuses a tampered 200 delivered at the end of a wait and keeps the last good version", async () => {
    const v1 = await harness.signer.sign(KEY, 1, { v: 1 });
    const v2 = await harness.signer.sign(KEY, 2, { v: 2 });
    const edge = longPollEdge(v1, { body: flipByte(v2.body, 3) });
    harness.server.handle(edge.handler);
    const { c, errors } = client({ intervalMs: 50, maxBackoffMs: 100, waitSeconds: 30 });
    await c.ready();
    await waitFor(() => edge.parked() === 1, 2000, "a held request");
    edge.publish(v2);
    await waitFor(() => errors.length > 0, 2000, "the refusal");
    expect(errors[0]?.code).toBe("digest_mismatch");
    expect(c.current()?.version).toBe(1);
  });

  it("refuses a long-polled replay of an older version (version floor)", async () => {
    const v3 = await harness.signer.sign(KEY, 3, { v: 3 });
    const edge = longPollEdge(v3);
    harness.server.handle(edge.handler);
    const { c, errors } = client({ intervalMs: 50, maxBackoffMs: 100, waitSeconds: 30 });
    await c.ready();
    await waitFor(() => edge.parked() === 1, 2000, "a held request");
    edge.publish(await harness.signer.sign(KEY, 2, { v: 2 }));
    await waitFor(() => errors.length > 0, 2000, "the refusal");
    expect(errors[0]?.code).toBe("version_rollback");
    expect(c.current()?.version).toBe(3);
  });

  it("refuses a long-polled 200 signed by a key it does not trust, and one for another key", async () => {
    const edge = longPollEdge(await harness.signer.sign(KEY, 1, {}));
    harness.server.handle(edge.handler);
    const { c, errors } = client({ intervalMs: 50, maxBackoffMs: 100, waitSeconds: 30 });
    await c.ready();
    await waitFor(() => edge.parked() === 1, 2000, "a held request");
    edge.publish(await (await newSigner()).sign(KEY, 2, {}));
    await waitFor(() => errors.some((e) => e.code === "unknown_kid"), 2000, "unknown_kid");
    edge.publish(await harness.signer.sign("shop/prod/other", 3, {}));
    await waitFor(() => errors.some((e) => e.code === "key_mismatch"), 2000, "key_mismatch");
    expect(c.current()?.version).toBe(1);
  });
});

describe("fallback and pacing", () => {
  it("falls back to interval polling (still asking) when the edge never says Preference-Applied", async () => {
    harness.server.handle(
      serveSnapshot(await harness.signer.sign(KEY, 1, {}), { cacheControl: "max-age=0" }),
    );
    const { c } = client({ intervalMs: 300, waitSeconds: 30 });
    await c.ready();
    await waitFor(() => configRequests().length >= 4, 4000, "four requests");
    const [first, second, third, fourth] = configRequests();
    // The first answer had nothing to wait on, so the client asks for a wait at once…
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeLessThan(250);
    expect(second?.headers.prefer).toBe("wait=30");
    // …and, not held, it polls at its interval from then on, asking again each time.
    expect((third?.at ?? 0) - (second?.at ?? 0)).toBeGreaterThanOrEqual(290);
    expect((fourth?.at ?? 0) - (third?.at ?? 0)).toBeGreaterThanOrEqual(290);
    expect(fourth?.headers.prefer).toBe("wait=30");
  });

  it("with longPoll: false never sends Prefer and polls at the interval", async () => {
    harness.server.handle(
      serveSnapshot(await harness.signer.sign(KEY, 1, {}), { cacheControl: "max-age=0" }),
    );
    const { c } = client({ intervalMs: 300, longPoll: false });
    await c.ready();
    await waitFor(() => configRequests().length >= 3, 4000, "three requests");
    const [first, second, third] = configRequests();
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(290);
    expect((third?.at ?? 0) - (second?.at ?? 0)).toBeGreaterThanOrEqual(290);
    for (const r of configRequests()) expect(r.headers.prefer).toBeUndefined();
  });

  it("does not busy-loop on an edge that claims to hold but answers unchanged at once", async () => {
    harness.server.handle(
      serveSnapshot(await harness.signer.sign(KEY, 1, {}), {
        cacheControl: "max-age=0",
        headers: { "Preference-Applied": "wait=30" },
      }),
    );
    const { c } = client({ intervalMs: 300, waitSeconds: 30 });
    await c.ready();
    await new Promise((r) => setTimeout(r, 800));
    // The first fetch, the immediate ask, then the interval: at most 2 + 800/300.
    expect(configRequests().length).toBeLessThanOrEqual(4);
  });

  it("backs off at least Retry-After, plus jitter, when the edge's waiter cap answers 503", async () => {
    const v1 = await harness.signer.sign(KEY, 1, {});
    const busy = problem(503, "too many waiters", { "Retry-After": "1" });
    const ok = serveSnapshot(v1);
    harness.server.handle((req, res) => (req.headers.prefer ? busy(req, res) : ok(req, res)));
    // random 0.5: full-jitter backoff draws 50 % of 100 ms; Retry-After 1 s gets +50 % of its 50 % spread.
    const { c, errors } = client({ intervalMs: 100, maxBackoffMs: 100, random: () => 0.5 });
    await c.ready();
    await waitFor(() => configRequests().length >= 3, 5000, "a retry after the 503");
    const [, refused, retried] = configRequests();
    expect(errors[0]).toMatchObject({ code: "http_error", status: 503 });
    expect((retried?.at ?? 0) - (refused?.at ?? 0)).toBeGreaterThanOrEqual(1240);
    expect(retried?.headers.prefer).toBe("wait=30");
    expect(c.current()?.version).toBe(1);
  });
});

describe("options", () => {
  it.each([0, 61, 1.5, Number.NaN])("refuses waitSeconds %s", async (waitSeconds) => {
    expect(() => client({ waitSeconds })).toThrow(/waitSeconds must be an integer from 1 to 60/);
  });

  it("still rejects ready() with the edge's error while long-polling", async () => {
    harness.server.handle(problem(404, "no such key"));
    const { c } = client({ waitSeconds: 5 });
    expect(await rejection(c.ready())).toMatchObject({ code: "not_found" });
  });
});

describe("long-poll policy", () => {
  const answer = {
    enabled: true,
    asked: true,
    changed: false,
    appliedWaitSeconds: 30,
    elapsedMs: 30_000,
  };

  it("re-polls at once after a held answer, a change, or a first fetch", () => {
    expect(pollAgainAtOnce(answer)).toBe(true);
    expect(pollAgainAtOnce({ ...answer, appliedWaitSeconds: null, changed: true, elapsedMs: 5 })).toBe(true);
    expect(pollAgainAtOnce({ ...answer, asked: false, appliedWaitSeconds: null, elapsedMs: 5 })).toBe(true);
  });

  it("waits the interval when the wait was not honoured, was cut short, or long-poll is off", () => {
    expect(pollAgainAtOnce({ ...answer, appliedWaitSeconds: null })).toBe(false);
    expect(pollAgainAtOnce({ ...answer, elapsedMs: 14_999 })).toBe(false);
    expect(pollAgainAtOnce({ ...answer, elapsedMs: 15_000 })).toBe(true);
    expect(pollAgainAtOnce({ ...answer, enabled: false, changed: true })).toBe(false);
  });

  it("spreads Retry-After by up to 50 % so refused waiters do not return together", () => {
    const policy = (random: number) => ({ intervalMs: 100, maxBackoffMs: 100, random: () => random });
    expect(delayAfterFailure(policy(0), 1, 2000)).toBe(2000);
    expect(delayAfterFailure(policy(0.5), 1, 2000)).toBe(2500);
    expect(delayAfterFailure(policy(0.999), 1, 2000)).toBeLessThan(3000);
  });

  it("reads the honoured wait from Preference-Applied (RFC 7240 §3)", () => {
    expect(appliedWaitSeconds("wait=30")).toBe(30);
    expect(appliedWaitSeconds("respond-async, wait=12")).toBe(12);
    expect(appliedWaitSeconds('WAIT="5"')).toBe(5);
    expect(appliedWaitSeconds("return=minimal")).toBeNull();
    expect(appliedWaitSeconds("wait=soon")).toBeNull();
    expect(appliedWaitSeconds(null)).toBeNull();
  });
});
