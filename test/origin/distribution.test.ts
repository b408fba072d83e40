/// <reference types="@cloudflare/vitest-pool-workers/types" />
/**
 * The outbox: committed changes reach KV (snapshot before head) and the edge caches, and survive
 * KV or purge failures by retrying from a Durable Object alarm. Failures are injected by wrapping
 * the real KV binding or replacing the purger inside the object (its `distributionOverride`).
 */
import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { type HeadRecord, kvKeys } from "../../core";
import type { DistributionDeps, KvWriter } from "../../origin/distribution/drain";
import { PurgeError } from "../../origin/distribution/purger";
import { call, freshNamespace, originEnv, publish, publishOk, storeOf } from "./support/origin";

/** The real KV binding, failing the puts `fails` selects. */
class FailingKv implements KvWriter {
  readonly attempts: string[] = [];
  constructor(private readonly fails: (name: string) => boolean) {}
  async put(name: string, value: string | ArrayBuffer | ArrayBufferView): Promise<void> {
    this.attempts.push(name);
    if (this.fails(name)) throw new Error(`KV unavailable for ${name}`);
    await originEnv.CONFIGS.put(name, value);
  }
}

const failingPurger = { purge: async () => Promise.reject(new PurgeError("edge unreachable")) };

function override(namespace: string, deps: Partial<DistributionDeps> | null): Promise<void> {
  return runInDurableObject(storeOf(namespace), (instance) => {
    instance.distributionOverride = deps;
  });
}

/** Milliseconds until the object's alarm, or null when none is set. */
function alarmIn(namespace: string): Promise<number | null> {
  return runInDurableObject(storeOf(namespace), async (_, state) => {
    const at = await state.storage.getAlarm();
    return at === null ? null : at - Date.now();
  });
}

function outboxSize(namespace: string): Promise<number> {
  return runInDurableObject(storeOf(namespace), (_, state) =>
    Number(state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox").one().n),
  );
}

const head = async (key: string) =>
  (await originEnv.CONFIGS.get(kvKeys.head(key), "json")) as HeadRecord | null;

describe("distribution through the outbox", () => {
  it("reports pending when KV fails, writes no head, and the alarm completes it", async () => {
    const ns = freshNamespace();
    const key = `${ns}/app`;
    await override(ns, { kv: new FailingKv(() => true) });
    const res = await publish(key, { a: 1 });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ version: 1, distribution: "pending" });
    expect(await head(key)).toBeNull();
    expect(await originEnv.CONFIGS.get(kvKeys.snapshot(key, 1))).toBeNull();
    // The origin's own store already has it: SQLite is the source of truth.
    expect((await call("GET", `/v1/configs/${key}`)).status).toBe(200);
    const wait = await alarmIn(ns);
    expect(wait).not.toBeNull();
    expect(wait).toBeLessThanOrEqual(1000);

    await override(ns, null);
    expect(await runDurableObjectAlarm(storeOf(ns))).toBe(true);
    expect(await head(key)).toMatchObject({ version: 1, deleted: false });
    expect(await originEnv.CONFIGS.get(kvKeys.snapshot(key, 1))).not.toBeNull();
    expect(await outboxSize(ns)).toBe(0);
  });

  it("never writes a head before its snapshot: a failed snapshot write leaves the old head", async () => {
    const ns = freshNamespace();
    const key = `${ns}/app`;
    await publishOk(key, { v: 1 });
    const kv = new FailingKv((name) => name.startsWith("snap/"));
    await override(ns, { kv });
    expect(await publishOk(key, { v: 2 })).toMatchObject({ version: 2, distribution: "pending" });
    expect(kv.attempts).toEqual([kvKeys.snapshot(key, 2)]);
    expect((await head(key))?.version).toBe(1);

    await override(ns, null);
    await runDurableObjectAlarm(storeOf(ns));
    expect((await head(key))?.version).toBe(2);
  });

  it("lets an identical retry of a pending publish finish the distribution", async () => {
    const ns = freshNamespace();
    const key = `${ns}/app`;
    await override(ns, { purger: failingPurger });
    expect(await publishOk(key, { a: 1 })).toMatchObject({ version: 1, distribution: "pending" });
    await override(ns, null);
    const retry = await publish(key, { a: 1 });
    expect(retry.status).toBe(200);
    expect(await retry.json()).toMatchObject({ version: 1, distribution: "complete" });
    expect(await outboxSize(ns)).toBe(0);
  });

  it("catches up with every missing snapshot when several versions piled up", async () => {
    const ns = freshNamespace();
    const key = `${ns}/app`;
    await override(ns, { kv: new FailingKv(() => true) });
    for (const n of [1, 2, 3]) await publishOk(key, { n });
    await override(ns, null);
    await runDurableObjectAlarm(storeOf(ns));
    for (const n of [1, 2, 3]) expect(await originEnv.CONFIGS.get(kvKeys.snapshot(key, n))).not.toBeNull();
    expect((await head(key))?.version).toBe(3);
  });

  it("retries a failing purge with exponential backoff: 1 s, 2 s, 4 s", async () => {
    const ns = freshNamespace();
    const key = `${ns}/app`;
    await override(ns, { purger: failingPurger });
    expect(await publishOk(key, { a: 1 })).toMatchObject({ distribution: "pending" });
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      waits.push((await alarmIn(ns)) ?? -1);
      expect(await runDurableObjectAlarm(storeOf(ns))).toBe(true);
    }
    expect(waits[0]).toBeGreaterThan(500);
    expect(waits[0]).toBeLessThanOrEqual(1000);
    expect(waits[1]).toBeGreaterThan(1500);
    expect(waits[1]).toBeLessThanOrEqual(2000);
    expect(waits[2]).toBeGreaterThan(3500);
    expect(waits[2]).toBeLessThanOrEqual(4000);
    expect(await outboxSize(ns)).toBe(1);

    await override(ns, null);
    await runDurableObjectAlarm(storeOf(ns));
    expect(await outboxSize(ns)).toBe(0);
    // A later success resets the backoff: the next failure waits 1 s again.
    await override(ns, { purger: failingPurger });
    await publishOk(key, { a: 2 });
    expect(await alarmIn(ns)).toBeLessThanOrEqual(1000);
    await override(ns, null);
    await runDurableObjectAlarm(storeOf(ns));
  });

  it("re-arms the alarm when a restarted object finds work left in its outbox", async () => {
    const ns = freshNamespace();
    const key = `${ns}/app`;
    await override(ns, { kv: new FailingKv(() => true) });
    await publishOk(key, { a: 1 });
    await runInDurableObject(storeOf(ns), (_, state) => state.storage.deleteAlarm());
    expect(await alarmIn(ns)).toBeNull();
    await abortAllDurableObjects();
    // The new instance has no override and sees the pending row.
    expect(await alarmIn(ns)).not.toBeNull();
    await runDurableObjectAlarm(storeOf(ns));
    expect((await head(key))?.version).toBe(1);
  });

  it("distributes namespace settings the same way", async () => {
    const ns = freshNamespace();
    await override(ns, { kv: new FailingKv(() => true) });
    const res = await call("PUT", `/v1/namespaces/${ns}`, { json: { visibility: "public" } });
    expect(await res.json()).toMatchObject({ visibility: "public", distribution: "pending" });
    expect(await originEnv.CONFIGS.get(kvKeys.namespace(ns))).toBeNull();
    await override(ns, null);
    await runDurableObjectAlarm(storeOf(ns));
    expect(await originEnv.CONFIGS.get(kvKeys.namespace(ns), "json")).toMatchObject({ visibility: "public" });
  });
});

describe("purge through the real edge (EDGE service binding)", () => {
  const edge = (path: string, headers: Record<string, string> = {}) => {
    if (!originEnv.EDGE) throw new Error("the origin test project needs the EDGE binding");
    return originEnv.EDGE.fetch(`https://edge.test${path}`, { headers });
  };

  it("makes the edge serve a new version at once, and 404 after a delete", async () => {
    const ns = freshNamespace();
    const key = `${ns}/app`;
    await call("PUT", `/v1/namespaces/${ns}`, { json: { visibility: "public", maxAge: 300 } });
    await publishOk(key, { v: 1 });
    const first = await edge(`/v1/configs/${key}`);
    expect(first.status).toBe(200);
    expect(first.headers.get("Config-Version")).toBe("1");
    // Served from the edge's cache now; without a purge v1 would stay for max-age=300.
    expect((await edge(`/v1/configs/${key}`)).headers.get("Config-Version")).toBe("1");

    expect(await publishOk(key, { v: 2 })).toMatchObject({ distribution: "complete" });
    const second = await edge(`/v1/configs/${key}`);
    expect(second.headers.get("Config-Version")).toBe("2");
    expect(await second.json()).toEqual({ v: 2 });

    expect((await call("DELETE", `/v1/configs/${key}`)).status).toBe(200);
    expect((await edge(`/v1/configs/${key}`)).status).toBe(404);
  });

  it("makes a namespace public at the edge at once, and read tokens from /v1/tokens work there", async () => {
    const ns = freshNamespace();
    const key = `${ns}/app`;
    await publishOk(key, { secret: false });
    expect((await edge(`/v1/configs/${key}`)).status).toBe(401);
    const { token } = (await (
      await call("POST", "/v1/tokens", { json: { scope: `read:${ns}` } })
    ).json()) as {
      token: string;
    };
    expect((await edge(`/v1/configs/${key}`, { Authorization: `Bearer ${token}` })).status).toBe(200);
    const res = await call("PUT", `/v1/namespaces/${ns}`, { json: { visibility: "public" } });
    expect(await res.json()).toMatchObject({ distribution: "complete" });
    expect((await edge(`/v1/configs/${key}`)).status).toBe(200);
  });
});
