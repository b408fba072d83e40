/**
 * Partial failures between the Durable Object commit and the outside world. The commit in SQLite
 * is the truth: whatever fails afterwards (a snapshot write, a head write, a write that lands but
 * reports failure, the edge purge), the write is acknowledged with `distribution: "pending"`, KV
 * never holds a head whose snapshot is missing, the alarm stays armed, and once the fault clears
 * the alarm brings KV and the edge up to date. Faults are injected through the store's
 * `distributionOverride` seam around the real KV binding and the real edge.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { afterAll, describe, expect, it } from "vitest";
import { purgerFor } from "../../origin/distribution/purger-for";
import { ServiceBindingPurger } from "../../origin/distribution/service-purger";
import { prng } from "../support/prng";
import {
  alarmSet,
  assertConverged,
  assertHeadsResolve,
  drainByAlarm,
  edgeGet,
  FailingPurger,
  injectDistribution,
  outboxLength,
  type PutFault,
  ScriptedKv,
  storeRows,
} from "./reliability-support";
import { call, freshNamespace, originEnv, publish, publishOk, storeOf } from "./support/origin";

/** Faults injected across the whole file (reported by the suite's last test). */
const injected = { kvFaults: 0, purgeFaults: 0, cases: 0 };

interface Fault {
  name: string;
  /** Only snapshot writes fail: a delete writes no snapshot, so it completes regardless. */
  snapshotsOnly?: boolean;
  install(ns: string): Promise<() => number>;
}

const kvFault = (name: string, plan: (put: string) => PutFault, snapshotsOnly = false): Fault => ({
  name,
  snapshotsOnly,
  async install(ns) {
    const kv = new ScriptedKv((put) => plan(put));
    await injectDistribution(ns, { kv });
    return () => kv.faults;
  },
});

const FAULTS: Fault[] = [
  kvFault("the snapshot write fails", (put) => (put.startsWith("snap/") ? "fail-before" : "ok"), true),
  kvFault(
    "the snapshot write lands but reports failure",
    (put) => (put.startsWith("snap/") ? "fail-after" : "ok"),
    true,
  ),
  kvFault("the head write fails", (put) => (put.startsWith("head/") ? "fail-before" : "ok")),
  kvFault("the head write lands but reports failure", (put) =>
    put.startsWith("head/") ? "fail-after" : "ok",
  ),
  kvFault("every KV write fails", () => "fail-before"),
  {
    name: "the edge purge fails",
    async install(ns) {
      const purger = new FailingPurger();
      await injectDistribution(ns, { purger });
      return () => purger.calls;
    },
  },
  {
    name: "the edge refuses the purge (wrong secret)",
    async install(ns) {
      if (!originEnv.EDGE) throw new Error("no EDGE binding");
      const real = new ServiceBindingPurger(originEnv.EDGE, "not-the-purge-secret");
      let calls = 0;
      await injectDistribution(ns, {
        purger: {
          purge: (request) => {
            calls++;
            return real.purge(request);
          },
        },
      });
      return () => calls;
    },
  },
];

interface Operation {
  name: string;
  /** Runs the operation on a key that has v1 and v2 live (v2 current) and cached at the edge. */
  run(key: string): Promise<Response>;
  /** What the edge must serve once distribution completes: a version, or 404. */
  after: { version: number; body: string } | 404;
  status: number;
  /** Versions the key has afterwards (each with its snapshot in KV once converged). */
  versions: number;
  writesSnapshot: boolean;
}

const OPERATIONS: Operation[] = [
  {
    name: "a publish",
    run: (key) => publish(key, '{"v":3}'),
    after: { version: 3, body: '{"v":3}' },
    status: 201,
    versions: 3,
    writesSnapshot: true,
  },
  {
    name: "a rollback",
    run: (key) => call("POST", `/v1/configs/${key}/-/rollback`, { json: { to: 1 } }),
    after: { version: 3, body: '{"v":1}' },
    status: 201,
    versions: 3,
    writesSnapshot: true,
  },
  {
    name: "a delete",
    run: (key) => call("DELETE", `/v1/configs/${key}`),
    after: 404,
    status: 200,
    versions: 2,
    writesSnapshot: false,
  },
];

async function edgeState(key: string): Promise<{ status: number; version: string | null; body: string }> {
  const res = await edgeGet(`/v1/configs/${key}`);
  return { status: res.status, version: res.headers.get("Config-Version"), body: await res.text() };
}

/** A public namespace (so the edge caches for 300 s) with v1 and v2 of `key` live and cached. */
async function liveKey(): Promise<{ ns: string; key: string }> {
  const ns = freshNamespace("fault");
  const key = `${ns}/svc/app`;
  const settings = await call("PUT", `/v1/namespaces/${ns}`, { json: { visibility: "public", maxAge: 300 } });
  expect(settings.status).toBe(200);
  await publishOk(key, '{"v":1}');
  await publishOk(key, '{"v":2}');
  expect(await edgeState(key)).toEqual({ status: 200, version: "2", body: '{"v":2}' });
  return { ns, key };
}

describe.each(FAULTS)("when $name", { timeout: 90_000 }, (fault) => {
  it.each(OPERATIONS)(
    "acknowledges $name as pending, keeps KV consistent, and the alarm completes it",
    async (op) => {
      const { ns, key } = await liveKey();
      const count = await fault.install(ns);

      const res = await op.run(key);
      expect(res.status).toBe(op.status);
      if (fault.snapshotsOnly && !op.writesSnapshot) {
        // Nothing this fault touches is written: the change goes through in full.
        expect(await res.json()).toMatchObject({ distribution: "complete" });
        expect(count()).toBe(0);
        await assertConverged(ns);
        expect((await edgeState(key)).status).toBe(404);
        return;
      }
      expect(await res.json()).toMatchObject({ distribution: "pending" });
      expect(count()).toBeGreaterThan(0);
      // Whatever failed, no head in KV points at a missing snapshot, and the retry is scheduled.
      await assertHeadsResolve(ns);
      expect(await outboxLength(ns)).toBe(1);
      expect(await alarmSet(ns)).toBe(true);
      // The edge still answers consistently: the old version or the new one, never a broken mix.
      const during = await edgeState(key);
      if (during.status === 200) expect(['{"v":2}', '{"v":1}', '{"v":3}']).toContain(during.body);
      else expect([200, 404]).toContain(during.status);

      // A retry while the fault persists fails the same way, safely, and re-arms the alarm.
      expect(await runDurableObjectAlarm(storeOf(ns))).toBe(true);
      await assertHeadsResolve(ns);
      expect(await alarmSet(ns)).toBe(true);
      injected.kvFaults += fault.name.includes("purge") ? 0 : count();
      injected.purgeFaults += fault.name.includes("purge") ? count() : 0;
      injected.cases++;

      await injectDistribution(ns, null);
      expect(await drainByAlarm(ns)).toBeGreaterThanOrEqual(1);
      expect(await assertConverged(ns)).toBe(op.versions);
      const after = await edgeState(key);
      if (op.after === 404) expect(after.status).toBe(404);
      else expect(after).toEqual({ status: 200, version: String(op.after.version), body: op.after.body });
    },
  );
});

describe("a key's first publish", { timeout: 60_000 }, () => {
  it.each(FAULTS)(
    "is readable from the origin at once and reaches the edge after the alarm when $name",
    async (fault) => {
      const ns = freshNamespace("fault");
      const key = `${ns}/first`;
      expect((await call("PUT", `/v1/namespaces/${ns}`, { json: { visibility: "public" } })).status).toBe(
        200,
      );
      const count = await fault.install(ns);
      expect(await publishOk(key, { first: true })).toMatchObject({ version: 1, distribution: "pending" });
      await assertHeadsResolve(ns);
      expect((await call("GET", `/v1/configs/${key}`)).status).toBe(200);
      injected.kvFaults += fault.name.includes("purge") ? 0 : count();
      injected.purgeFaults += fault.name.includes("purge") ? count() : 0;
      injected.cases++;
      await injectDistribution(ns, null);
      await drainByAlarm(ns);
      await assertConverged(ns);
      expect(await edgeState(key)).toEqual({ status: 200, version: "1", body: '{"first":true}' });
    },
  );
});

describe("a publish while a drain is stuck on KV", { timeout: 60_000 }, () => {
  it("is not lost: the running drain goes round again and KV ends at the newest head", async () => {
    const ns = freshNamespace("fault");
    const key = `${ns}/app`;
    // Plain flags, polled on both sides: a promise resolved from the test's context cannot wake
    // code running in the Durable Object's (workerd forbids cross-object I/O continuations).
    const gate = { reached: false, released: false };
    await injectDistribution(ns, {
      kv: {
        async put(name, value) {
          if (!gate.reached) {
            gate.reached = true;
            while (!gate.released) await sleep(5);
          }
          await originEnv.CONFIGS.put(name, value);
        },
      },
    });
    const one = publish(key, { n: 1 });
    while (!gate.reached) await sleep(5);
    const two = publish(key, { n: 2 });
    const three = publish(key, { n: 3 });
    // Let the second and third commit while the first drain is still waiting on KV.
    await sleep(150);
    expect(await storeRows(ns).then((rows) => rows.versions?.length)).toBe(3);
    gate.released = true;
    const bodies = (await Promise.all([one, two, three].map(async (r) => (await r).json()))) as {
      version: number;
      distribution: string;
    }[];
    expect(bodies.map((b) => b.version).sort()).toEqual([1, 2, 3]);
    expect(bodies.every((b) => b.distribution === "complete")).toBe(true);
    expect(await assertConverged(ns)).toBe(3);
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe("the invariant check itself", { timeout: 60_000 }, () => {
  it("catches a head whose snapshot is missing (a KV that acknowledges snapshot writes it dropped)", async () => {
    const ns = freshNamespace("fault");
    const key = `${ns}/app`;
    await injectDistribution(ns, {
      kv: {
        put: async (name, value) => {
          if (!name.startsWith("snap/")) await originEnv.CONFIGS.put(name, value);
        },
      },
    });
    expect(await publishOk(key, { lost: true })).toMatchObject({ distribution: "complete" });
    await expect(assertHeadsResolve(ns)).rejects.toThrow(/whose snapshot is not in KV/);
    await expect(assertConverged(ns)).rejects.toThrow(/missing from KV/);
  });
});

describe("a KV write that never returns", { timeout: 60_000 }, () => {
  it("neither holds the publish nor wedges distribution: pending at once, the alarm completes it", async () => {
    const ns = freshNamespace("fault");
    const key = `${ns}/app`;
    let hung = 0;
    await injectDistribution(ns, {
      kv: {
        put: () => {
          hung++;
          return new Promise<void>(() => {});
        },
      },
      kvTimeoutMs: 200,
    });
    const started = Date.now();
    expect(await publishOk(key, { a: 1 })).toMatchObject({ version: 1, distribution: "pending" });
    // The next publish is not queued behind the hung write either.
    expect(await publishOk(key, { a: 2 })).toMatchObject({ version: 2, distribution: "pending" });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(hung).toBeGreaterThanOrEqual(2);
    await assertHeadsResolve(ns);
    expect(await alarmSet(ns)).toBe(true);
    injected.kvFaults += hung;
    injected.cases++;
    await injectDistribution(ns, null);
    await drainByAlarm(ns);
    expect(await assertConverged(ns)).toBe(2);
  });
});

describe("chaos: random faults on every KV write and purge", { timeout: 240_000 }, () => {
  const SEED = 20261130;
  const OPS = 120;

  it(`loses nothing over ${OPS} random operations (seed ${SEED})`, async () => {
    const random = prng(SEED);
    const ns = freshNamespace("chaos");
    const keys = [`${ns}/a`, `${ns}/b/c`, `${ns}/d/e/f`];
    expect((await call("PUT", `/v1/namespaces/${ns}`, { json: { visibility: "public" } })).status).toBe(200);
    const real = purgerFor({ mode: "service", secret: originEnv.PURGE_SECRET }, originEnv);
    let purgeFaults = 0;
    const kv = new ScriptedKv(() => {
      const roll = random();
      return roll < 0.15 ? "fail-before" : roll < 0.25 ? "fail-after" : "ok";
    });
    await injectDistribution(ns, {
      kv,
      purger: {
        purge: (request) => {
          if (random() < 0.2) {
            purgeFaults++;
            return Promise.reject(new Error("injected: purge failed"));
          }
          return real.purge(request);
        },
      },
    });

    // What the test expects SQLite to hold: each key's versions' bodies and whether it is deleted.
    const model = new Map<string, { bodies: string[]; deleted: boolean }>(
      keys.map((k) => [k, { bodies: [], deleted: false }]),
    );
    let pending = 0;
    for (let op = 0; op < OPS; op++) {
      const key = keys[Math.floor(random() * keys.length)] as string;
      const state = model.get(key) as { bodies: string[]; deleted: boolean };
      const roll = random();
      let res: Response;
      if (roll < 0.1 && state.bodies.length > 0) {
        res = await call("DELETE", `/v1/configs/${key}`);
        if (state.deleted) expect(res.status).toBe(404);
        else {
          expect(res.status).toBe(200);
          state.deleted = true;
        }
      } else if (roll < 0.25 && state.bodies.length > 0) {
        const to = 1 + Math.floor(random() * state.bodies.length);
        const body = state.bodies[to - 1] as string;
        const live = state.deleted ? null : state.bodies.at(-1);
        res = await call("POST", `/v1/configs/${key}/-/rollback`, { json: { to } });
        expect(res.status).toBe(live === body ? 200 : 201);
        if (res.status === 201) state.bodies.push(body);
        state.deleted = false;
      } else {
        const body = JSON.stringify({ op, value: Math.floor(random() * 5) });
        res = await publish(key, body);
        expect(res.status).toBe(201);
        state.bodies.push(body);
        state.deleted = false;
      }
      const ack = (await res.json()) as { distribution?: string };
      if (ack.distribution === "pending") pending++;
      await assertHeadsResolve(ns);
      if ((await outboxLength(ns)) > 0) expect(await alarmSet(ns)).toBe(true);
      // Sometimes the alarm fires while the faults continue.
      if (random() < 0.3) {
        await runDurableObjectAlarm(storeOf(ns));
        await assertHeadsResolve(ns);
      }
    }

    await injectDistribution(ns, null);
    await drainByAlarm(ns);
    const snapshots = await assertConverged(ns);
    const rows = await storeRows(ns);
    let versions = 0;
    for (const key of keys) {
      const state = model.get(key) as { bodies: string[]; deleted: boolean };
      versions += state.bodies.length;
      const res = await edgeGet(`/v1/configs/${key}`);
      if (state.bodies.length === 0 || state.deleted) expect(res.status).toBe(404);
      else {
        expect(res.headers.get("Config-Version")).toBe(String(state.bodies.length));
        expect(await res.text()).toBe(state.bodies.at(-1));
      }
      for (const [i, body] of state.bodies.entries()) {
        const old = await call("GET", `/v1/configs/${key}/-/versions/${i + 1}`);
        expect(((await old.json()) as { content: unknown }).content).toEqual(JSON.parse(body));
      }
    }
    expect(snapshots).toBe(versions);
    expect(rows.versions).toHaveLength(versions);
    expect(kv.faults + purgeFaults).toBeGreaterThan(20);
    expect(pending).toBeGreaterThan(0);
    injected.kvFaults += kv.faults;
    injected.purgeFaults += purgeFaults;
    injected.cases++;
    console.log(
      JSON.stringify({
        suite: "chaos",
        seed: SEED,
        operations: OPS,
        versions,
        kvFaults: kv.faults,
        purgeFaults,
        pendingAcks: pending,
      }),
    );
  });
});

afterAll(() => {
  // The figures the reliability report quotes.
  console.log(JSON.stringify({ suite: "reliability-faults", ...injected }));
});
