/**
 * Fleet recording at the edge: sightings of clients sending Config-Client-Id are kept per isolate
 * (bounded), flushed in batches from waitUntil, and really reach the origin (the real origin
 * worker is bound as ORIGIN in this project) whose fleet view then counts them.
 */
import { describe, expect, it } from "vitest";
import type { FleetBatch } from "../../core";
import type { FleetRecorder } from "../../worker/fleet/recorder";
import { mintTestAdminToken } from "../support/admin-token";
import { edge, env, TestClock } from "./harness";

const origin = (): Fetcher => {
  if (!env.ORIGIN) throw new Error("the worker project binds the real origin as ORIGIN");
  return env.ORIGIN;
};
const adminSecret = () => (env as unknown as { ADMIN_JWT_SECRET: string }).ADMIN_JWT_SECRET;

async function admin(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const token = await mintTestAdminToken(adminSecret(), "admin", { sub: "fleet-test" });
  return origin().fetch(`https://origin.internal${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

function freshKey(): string {
  return `fleet-${crypto.randomUUID().slice(0, 8)}/svc/flags`;
}

async function publicKey(key: string, doc: unknown): Promise<void> {
  const namespace = key.split("/")[0] ?? "";
  expect((await admin("PUT", `/v1/namespaces/${namespace}`, { visibility: "public" })).status).toBe(200);
  expect((await admin("PUT", `/v1/configs/${key}`, doc)).status).toBe(201);
}

function poll(e: ReturnType<typeof edge>, key: string, clientId?: string) {
  return e.fetch(`/v1/configs/${key}`, clientId ? { headers: { "Config-Client-Id": clientId } } : {});
}

describe("fleet recording", () => {
  it("flushes sightings to the origin, whose fleet view counts each version's clients", async () => {
    const key = freshKey();
    await publicKey(key, { v: 1 });
    const e = edge({ telemetry: { fleet: { flushIntervalMs: 1 } } });
    for (const id of ["a", "b", "c", "d"]) expect((await poll(e, key, id)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await poll(e, key, "e");
    const view = await (await admin("GET", `/v1/configs/${key}/-/fleet`)).json();
    expect(view).toMatchObject({ key, current: 1, converged: 1 });
    expect((view as { clients: number }).clients).toBeGreaterThanOrEqual(4);
  });

  it("records only config answers to clients that send Config-Client-Id", async () => {
    const key = freshKey();
    await publicKey(key, { v: 1 });
    let recorder: FleetRecorder | undefined;
    const e = edge({
      telemetry: {
        flushTimer: false,
        sink: () => async () => undefined,
        inspect: (t) => (recorder = t.recorder),
      },
    });
    await poll(e, key);
    await poll(e, `${key}-missing`, "client-1");
    await e.fetch("/healthz", { headers: { "Config-Client-Id": "client-1" } });
    expect(recorder?.pending).toBe(0);
    await poll(e, key, "client-1");
    await poll(e, key, "client-1");
    expect(recorder?.pending).toBe(1);
  });

  it("never calls the origin per request: one flush per interval, at most maxBatch sightings per batch", async () => {
    const key = freshKey();
    await publicKey(key, { v: 1 });
    const batches: FleetBatch[] = [];
    const clock = new TestClock();
    const e = edge({
      clock,
      telemetry: {
        flushTimer: false,
        now: clock.now,
        fleet: { flushIntervalMs: 60_000, maxBatch: 2, maxBatchesPerFlush: 2 },
        sink: () => async (batch) => {
          batches.push(batch);
        },
      },
    });
    for (let i = 0; i < 20; i++) await poll(e, key, `client-${i % 5}`);
    expect(batches, "no flush within the first interval").toEqual([]);
    clock.advance(60);
    // 20 more requests once the interval is over: one flush of 5 clients' sightings, cut into
    // at most maxBatchesPerFlush batches of at most maxBatch (the fifth waits for the next one).
    for (let i = 0; i < 20; i++) await poll(e, key, `client-${i % 5}`);
    expect(batches.map((batch) => batch.sightings.length)).toEqual([2, 2]);
    const reported = batches.flatMap((batch) => batch.sightings.map((s) => s.clientId));
    expect(new Set(reported).size).toBe(4);
  });

  it("drops new clients when the table is full and reports the drops with the next batch", async () => {
    const key = freshKey();
    await publicKey(key, { v: 1 });
    const batches: FleetBatch[] = [];
    let recorder: FleetRecorder | undefined;
    const e = edge({
      telemetry: {
        flushTimer: false,
        fleet: { maxEntries: 3, flushIntervalMs: 60_000 },
        sink: () => async (batch) => {
          batches.push(batch);
        },
        inspect: (t) => (recorder = t.recorder),
      },
    });
    for (const id of ["a", "b", "c", "d", "e"]) await poll(e, key, id);
    expect(recorder?.pending).toBe(3);
    expect(recorder?.counters.dropped).toBe(2);
    // A known client still updates its entry when the table is full.
    await poll(e, key, "a");
    expect(recorder?.counters.dropped).toBe(2);
    const taken = recorder?.takeBatches(Date.now() + 60_000) ?? [];
    expect(taken).toHaveLength(1);
    expect(taken[0]?.sightings.map((s) => s.clientId).sort()).toEqual(["a", "b", "c"]);
    expect(taken[0]?.dropped).toBe(2);
  });

  it("splits a flush into batches and keeps what does not fit for the next one", async () => {
    const key = freshKey();
    await publicKey(key, { v: 1 });
    let recorder: FleetRecorder | undefined;
    const e = edge({
      telemetry: {
        flushTimer: false,
        fleet: { maxBatch: 2, maxBatchesPerFlush: 2, flushIntervalMs: 60_000 },
        sink: () => async () => undefined,
        inspect: (t) => (recorder = t.recorder),
      },
    });
    for (const id of ["a", "b", "c", "d", "e"]) await poll(e, key, id);
    const first = recorder?.takeBatches(Date.now() + 60_000) ?? [];
    expect(first.map((b) => b.sightings.length)).toEqual([2, 2]);
    expect(recorder?.pending).toBe(1);
  });

  it("counts a batch the origin refuses as failed and loses it", async () => {
    const key = freshKey();
    await publicKey(key, { v: 1 });
    let recorder: FleetRecorder | undefined;
    const e = edge({
      telemetry: {
        flushTimer: false,
        fleet: { flushIntervalMs: 1 },
        // The real origin, with the wrong secret: it answers 401.
        sink: () => async (batch) => {
          const res = await origin().fetch("https://origin.internal/internal/fleet", {
            method: "POST",
            headers: { "Fleetconf-Purge-Secret": "wrong" },
            body: JSON.stringify(batch),
          });
          if (!res.ok) throw new Error(String(res.status));
        },
        inspect: (t) => (recorder = t.recorder),
      },
    });
    await poll(e, key, "a");
    await new Promise((resolve) => setTimeout(resolve, 5));
    await poll(e, key, "b");
    expect(recorder?.counters.batchesFailed).toBe(1);
    expect(recorder?.pending).toBe(0);
  });

  it("records nothing when FLEET_RECORDING is off", async () => {
    const key = freshKey();
    await publicKey(key, { v: 1 });
    let recorder: FleetRecorder | undefined;
    const { newApp } = await import("../../worker/app");
    const { createExecutionContext, waitOnExecutionContext } = await import("cloudflare:test");
    const app = newApp({ log: false, telemetry: { inspect: (t) => (recorder = t.recorder) } });
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request(`https://edge.test/v1/configs/${key}`, { headers: { "Config-Client-Id": "a" } }),
      { ...env, FLEET_RECORDING: "off" },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(200);
    expect(recorder?.counters.recorded).toBe(0);
  });

  it("flushes the last sightings on a timer: 200 clients poll once and the idle fleet's view counts 200 within 5 s", async () => {
    const key = freshKey();
    await publicKey(key, { v: 1 });
    // The real origin as the sink (the default), the default 2 s interval, and no later request.
    const e = edge({ telemetry: { flushTimer: true } });
    for (let i = 0; i < 200; i++) {
      // send, not fetch: the test must not wait on the timer in waitUntil, nor poll again.
      const { res } = await e.send(`/v1/configs/${key}`, { headers: { "Config-Client-Id": `host-${i}` } });
      expect(res.status).toBe(200);
    }
    const polledAt = Date.now();
    let clients = 0;
    while (Date.now() - polledAt < 5000) {
      clients = ((await (await admin("GET", `/v1/configs/${key}/-/fleet`)).json()) as { clients: number })
        .clients;
      if (clients === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(clients, "clients in the view within 5 s of the last poll").toBe(200);
  }, 30_000);

  it("records only answers with the current version, not ?version=N reads", async () => {
    const key = freshKey();
    await publicKey(key, { v: 1 });
    let recorder: FleetRecorder | undefined;
    const e = edge({
      telemetry: {
        flushTimer: false,
        sink: () => async () => undefined,
        inspect: (t) => (recorder = t.recorder),
      },
    });
    const res = await e.fetch(`/v1/configs/${key}?version=1`, { headers: { "Config-Client-Id": "history" } });
    expect(res.status).toBe(200);
    expect(recorder?.counters.recorded).toBe(0);
    await poll(e, key, "current");
    expect(recorder?.counters.recorded).toBe(1);
  });

  it("records Config-Client-Status with the sighting and counts a malformed one without failing the read", async () => {
    const key = freshKey();
    await publicKey(key, { v: 1 });
    const batches: FleetBatch[] = [];
    let recorder: FleetRecorder | undefined;
    const e = edge({
      telemetry: {
        flushTimer: false,
        fleet: { flushIntervalMs: 60_000 },
        sink: () => async (batch) => {
          batches.push(batch);
        },
        inspect: (t) => (recorder = t.recorder),
      },
    });
    const ok = await e.fetch(`/v1/configs/${key}`, {
      headers: {
        "Config-Client-Id": "a",
        "Config-Client-Status": 'applied=1, rejected=1;reason="bad schema"',
      },
    });
    expect(ok.status).toBe(200);
    for (const bad of ["applied=", "applied=0", "applied=1.5", 'applied="1"', "aplied=1", "x".repeat(600)]) {
      const res = await e.fetch(`/v1/configs/${key}`, {
        headers: { "Config-Client-Id": "b", "Config-Client-Status": bad },
      });
      expect(res.status, bad).toBe(200);
    }
    expect(recorder?.counters.statusMalformed).toBe(6);
    const sightings = recorder?.takeBatches(Date.now() + 60_000).flatMap((b) => b.sightings) ?? [];
    expect(sightings.find((s) => s.clientId === "a")).toMatchObject({
      applied: 1,
      rejected: 1,
      reason: "bad schema",
    });
    expect(sightings.find((s) => s.clientId === "b")).toMatchObject({ applied: null, rejected: null });
  });

  it("records a long-poll's sighting and status when it is parked, not when the hold ends", async () => {
    const key = freshKey();
    await publicKey(key, { v: 1 });
    let recorder: FleetRecorder | undefined;
    const e = edge({
      telemetry: {
        flushTimer: false,
        sink: () => async () => undefined,
        inspect: (t) => (recorder = t.recorder),
      },
    });
    const first = await e.fetch(`/v1/configs/${key}`, { headers: { "Config-Client-Id": "lp" } });
    const etag = first.headers.get("ETag") ?? "";
    const held = e.send(`/v1/configs/${key}`, {
      headers: {
        "Config-Client-Id": "lp",
        "If-None-Match": etag,
        Prefer: "wait=3",
        "Config-Client-Status": 'rejected=1;reason="hook exit 1"',
      },
    });
    let settled = false;
    void held.then(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(settled, "still held").toBe(false);
    const sightings = recorder?.takeBatches(Date.now() + 60_000).flatMap((b) => b.sightings) ?? [];
    expect(sightings.find((s) => s.clientId === "lp")).toMatchObject({
      version: 1,
      rejected: 1,
      reason: "hook exit 1",
    });
    const { res } = await held;
    expect(res.status).toBe(304);
  }, 15_000);

  it("keeps the newer report when the hold a client gave up is parked after its replacement", async () => {
    const key = freshKey();
    await publicKey(key, { v: 1 });
    let recorder: FleetRecorder | undefined;
    const e = edge({
      telemetry: {
        flushTimer: false,
        sink: () => async () => undefined,
        inspect: (t) => (recorder = t.recorder),
      },
    });
    const etag = (
      await e.fetch(`/v1/configs/${key}`, { headers: { "Config-Client-Id": "host" } })
    ).headers.get("ETag");
    const hold = (status: string) =>
      e.send(`/v1/configs/${key}`, {
        headers: {
          "Config-Client-Id": "host",
          "If-None-Match": etag ?? "",
          Prefer: "wait=1",
          "Config-Client-Status": status,
        },
      });
    // The client's hook failed on v1, then a retry applied it: it gave up the hold carrying the
    // rejection to send the news, but the edge parks the given-up request last (wrangler dev
    // shows this under load: the aborted request still arrives, after its replacement).
    const replacement = hold("applied=1");
    await new Promise((resolve) => setTimeout(resolve, 100));
    const givenUp = hold('rejected=1;reason="hook exit 1"');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const sightings = recorder?.takeBatches(Date.now() + 60_000).flatMap((b) => b.sightings) ?? [];
    expect(sightings.find((s) => s.clientId === "host")).toMatchObject({
      version: 1,
      applied: 1,
      rejected: null,
      reason: null,
    });
    for (const held of [replacement, givenUp]) expect((await held).res.status).toBe(304);
  }, 15_000);
});
