/**
 * The edge when KV misbehaves: reads that fail, hang past the timeout, or return records that are
 * corrupt or belong to another key. Within stale-if-error the last good answer is served from
 * whichever tier holds it (isolate memory, or the location's Cache API for a fresh isolate) and
 * Cache-Status says why; with nothing usable cached the answer is 503 with Retry-After. A chaos
 * run checks that every 200 is a complete, correctly signed published version and that an isolate
 * never goes back to an older version. Failures are injected by wrapping the real KV binding.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { afterAll, describe, expect, it } from "vitest";
import { type Jwks, kvKeys, sha256, toBase64, verifySnapshot } from "../../core";
import { newApp } from "../../worker/app";
import { timedKvReader } from "../../worker/cache/kv-reader";
import { prng } from "../support/prng";
import {
  publicConfig,
  publishFixture,
  putNamespaceSettings,
  uniqueNamespace,
} from "../support/snapshot-fixture";
import { env, TestClock } from "./harness";

type ReadFault = "ok" | "fail" | "hang";

/** The real KV binding; `decide` picks each read's fate by record name. Counts injected faults. */
class ScriptedKvReads {
  faults = 0;
  constructor(public decide: (name: string) => ReadFault) {}

  get(name: string, type: "text"): Promise<string | null>;
  get(name: string, type: "arrayBuffer"): Promise<ArrayBuffer | null>;
  get(name: string, type: "text" | "arrayBuffer"): Promise<string | ArrayBuffer | null> {
    const fate = this.decide(name);
    if (fate !== "ok") this.faults++;
    if (fate === "fail") return Promise.reject(new Error("injected: KV is down"));
    if (fate === "hang") return new Promise(() => undefined);
    return type === "text" ? env.CONFIGS.get(name, "text") : env.CONFIGS.get(name, "arrayBuffer");
  }
}

const totals = { faults: 0, requests: 0 };

/** An edge isolate (fresh memory) sharing the location's Cache API and the given clock. */
function isolate(clock: TestClock, kv: ScriptedKvReads) {
  const app = newApp({
    log: false,
    kvTimeoutMs: 50,
    now: clock.now,
    kv: (_env, timeoutMs) => timedKvReader(kv, timeoutMs),
  });
  return async (path: string, init?: RequestInit): Promise<Response> => {
    const ctx = createExecutionContext();
    const res = await app.fetch(new Request(`https://edge.test${path}`, init), env, ctx);
    await waitOnExecutionContext(ctx);
    totals.requests++;
    return res;
  };
}

const publicKey = (settings: Record<string, number> = {}) => publicConfig(env, { prefix: "rel", settings });

const RECORDS = ["head", "snapshot", "settings", "every record"] as const;
const isRecord = (record: (typeof RECORDS)[number], name: string) =>
  record === "every record" ||
  (record === "head" && name.startsWith("head/")) ||
  (record === "snapshot" && name.startsWith("snap/")) ||
  (record === "settings" && name.startsWith("ns/"));

afterAll(() => {
  console.log(JSON.stringify({ suite: "edge-reliability", ...totals }));
});

describe.each(["fail", "hang"] as const)("KV reads that %s", { timeout: 30_000 }, (mode) => {
  const reason = mode === "fail" ? "kv-error" : "kv-timeout";

  it.each(RECORDS)(
    "answer a cold miss with 503, Retry-After and problem+json when the %s read is hit",
    async (record) => {
      const { key } = await publicKey();
      const kv = new ScriptedKvReads((name) => (isRecord(record, name) ? mode : "ok"));
      const res = await isolate(new TestClock(), kv)(`/v1/configs/${key}`);
      totals.faults += kv.faults;
      expect(res.status).toBe(503);
      expect(res.headers.get("Retry-After")).toBe("5");
      expect(res.headers.get("Content-Type")).toBe("application/problem+json");
      expect(res.headers.get("Cache-Control")).toBe("no-store");
      expect(await res.json()).toMatchObject({ status: 503, code: "upstream_unavailable", reason });
    },
  );

  it("serve the stale entry from isolate memory within stale-if-error", async () => {
    const { key } = await publicKey();
    const clock = new TestClock();
    const kv = new ScriptedKvReads(() => "ok");
    const get = isolate(clock, kv);
    expect((await get(`/v1/configs/${key}`)).status).toBe(200);
    kv.decide = () => mode;
    clock.advance(3600); // far past max-age + stale-while-revalidate, within stale-if-error (1 day)
    const res = await get(`/v1/configs/${key}`);
    totals.faults += kv.faults;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ v: 1 });
    expect(res.headers.get("Cache-Status")).toMatch(
      new RegExp(`^fleetconf-edge; hit; fwd=stale; ttl=-3595; detail=memory/${reason}$`),
    );
  });

  it("serve the stale entry from the location's Cache API to a fresh isolate", async () => {
    const { key } = await publicKey();
    const clock = new TestClock();
    await isolate(clock, new ScriptedKvReads(() => "ok"))(`/v1/configs/${key}`);
    clock.advance(600);
    const kv = new ScriptedKvReads(() => mode);
    const res = await isolate(clock, kv)(`/v1/configs/${key}`);
    totals.faults += kv.faults;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ v: 1 });
    expect(res.headers.get("Cache-Status")).toContain(`fwd=stale`);
    expect(res.headers.get("Cache-Status")).toContain(`detail=cache/${reason}`);
  });

  it("answer 503 once the entry is older than stale-if-error", async () => {
    const { key } = await publicKey({ staleIfError: 120 });
    const clock = new TestClock();
    const kv = new ScriptedKvReads(() => "ok");
    const get = isolate(clock, kv);
    await get(`/v1/configs/${key}`);
    kv.decide = () => mode;
    clock.advance(5 + 120 + 1);
    const res = await get(`/v1/configs/${key}`);
    totals.faults += kv.faults;
    expect(res.status).toBe(503);
    expect(res.headers.get("Retry-After")).toBe("5");
  });
});

describe("records KV must not be trusted blindly", { timeout: 30_000 }, () => {
  it("refuses another key's snapshot stored under this key's name (substitution), keeping the last good one", async () => {
    const { namespace, key } = await publicKey();
    const other = `${namespace}/svc/other`;
    await publishFixture(env, { key: other, version: 2, content: { stolen: true } });
    const clock = new TestClock();
    const get = isolate(clock, new ScriptedKvReads(() => "ok"));
    expect(await (await get(`/v1/configs/${key}`)).json()).toEqual({ v: 1 });
    // v2 of `key` is announced, but its snapshot record is `other`'s v2.
    const foreign = await env.CONFIGS.get(kvKeys.snapshot(other, 2), "arrayBuffer");
    await env.CONFIGS.put(kvKeys.snapshot(key, 2), foreign as ArrayBuffer);
    const real = await publishFixture(env, { key, version: 2, content: { v: 2 }, only: "head" });
    clock.advance(60);
    const res = await get(`/v1/configs/${key}`);
    expect(await res.json()).toEqual({ v: 1 });
    expect(res.headers.get("Cache-Status")).toContain("detail=memory/corrupt-record");
    // A fresh isolate never serves the foreign bytes either: v2 stays unknown (404, the location's
    // last good head is v1) or unavailable (503), never 200.
    const cold = await isolate(clock, new ScriptedKvReads(() => "ok"))(`/v1/configs/${key}?version=2`);
    expect([404, 503]).toContain(cold.status);
    expect(await cold.text()).not.toContain("stolen");
    expect(real.meta.version).toBe(2);
  });

  it.each([
    ["not a snapshot record", new TextEncoder().encode("garbage")],
    ["a truncated record", new TextEncoder().encode('FCS1\n{"key":"x"')],
  ])("answers 503 rather than serving %s", async (_, bytes) => {
    const namespace = uniqueNamespace("rel");
    await putNamespaceSettings(env, namespace, { visibility: "public" });
    const key = `${namespace}/svc/conf`;
    await publishFixture(env, { key, only: "head" });
    await env.CONFIGS.put(kvKeys.snapshot(key, 1), bytes);
    const res = await isolate(new TestClock(), new ScriptedKvReads(() => "ok"))(`/v1/configs/${key}`);
    expect(res.status).toBe(503);
    expect(res.headers.get("Retry-After")).toBe("5");
  });
});

describe("chaos: random KV failures, timeouts and clock jumps", { timeout: 120_000 }, () => {
  const SEED = 9530;
  const REQUESTS = 300;

  it(`serves only complete, signed, published versions and never goes back (seed ${SEED}, ${REQUESTS} requests)`, async () => {
    const random = prng(SEED);
    const { key } = await publicKey({ staleIfError: 600 });
    const published = new Map<number, string>([[1, '{"v":1}']]);
    const clock = new TestClock();
    const kv = new ScriptedKvReads(() => {
      const roll = random();
      return roll < 0.25 ? "fail" : roll < 0.35 ? "hang" : "ok";
    });
    const isolates = [isolate(clock, kv), isolate(clock, kv)];
    const newest = [0, 0];
    const jwks = JSON.parse(env.PUBLIC_JWKS) as Jwks;
    const outcomes: Record<string, number> = {};
    for (let i = 0; i < REQUESTS; i++) {
      if (random() < 0.05) {
        const version = published.size + 1;
        const body = JSON.stringify({ v: version, pad: "p".repeat(version) });
        await publishFixture(env, { key, version, raw: body, publishedAt: clock.ms });
        published.set(version, body);
      }
      clock.advance(Math.floor(random() * 40));
      const which = random() < 0.5 ? 0 : 1;
      const res = await (isolates[which] as (path: string) => Promise<Response>)(`/v1/configs/${key}`);
      const body = new Uint8Array(await res.arrayBuffer());
      outcomes[res.status] = (outcomes[res.status] ?? 0) + 1;
      if (res.status === 503) {
        expect(res.headers.get("Retry-After")).toBe("5");
        continue;
      }
      expect(res.status).toBe(200);
      const version = Number(res.headers.get("Config-Version"));
      expect(new TextDecoder().decode(body)).toBe(published.get(version));
      expect(res.headers.get("Content-Digest")).toBe(`sha-256=:${toBase64(await sha256(body))}:`);
      const signature = await verifySnapshot(res.headers.get("Config-Signature") ?? "", body, jwks);
      expect(signature).toMatchObject({ ok: true, header: { key, ver: version } });
      expect(version).toBeGreaterThanOrEqual(newest[which] as number);
      newest[which] = version;
    }
    totals.faults += kv.faults;
    // KV heals: after max-age every isolate converges on the newest version.
    kv.decide = () => "ok";
    clock.advance(60);
    for (const get of isolates) {
      const res = await get(`/v1/configs/${key}`);
      expect(res.headers.get("Config-Version")).toBe(String(published.size));
    }
    expect(outcomes[200]).toBeGreaterThan(REQUESTS / 2);
    console.log(JSON.stringify({ suite: "edge-chaos", seed: SEED, faults: kv.faults, outcomes }));
  });
});
