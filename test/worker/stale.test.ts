import { describe, expect, it } from "vitest";
import { kvKeys } from "../../core";
import {
  publicConfig,
  publishFixture,
  putNamespaceSettings,
  uniqueNamespace,
} from "../support/snapshot-fixture";
import { edge, env } from "./harness";

const publicKey = async (settings = {}) => (await publicConfig(env, { settings })).key;

describe("stale-while-revalidate (RFC 5861 §3), done by the worker", () => {
  it("serves the stale entry once past max-age and refreshes it in the background", async () => {
    const key = await publicKey();
    const app = edge();
    await app.fetch(`/v1/configs/${key}`);
    await publishFixture(env, { key, version: 2, content: { v: 2 } });
    app.clock.advance(8); // max-age 5 → 3 s stale, within stale-while-revalidate=30

    const { res, settle } = await app.send(`/v1/configs/${key}`);
    expect(await res.json()).toEqual({ v: 1 });
    expect(res.headers.get("Cache-Status")).toBe("fleetconf-edge; hit; fwd=stale; ttl=-3; detail=memory");
    await settle();

    const after = await app.fetch(`/v1/configs/${key}`);
    expect(await after.json()).toEqual({ v: 2 });
    expect(after.headers.get("Cache-Status")).toBe("fleetconf-edge; hit; ttl=5; detail=memory");
  });

  it("refreshes a stale head once however many requests arrive meanwhile (single flight)", async () => {
    const key = await publicKey();
    const app = edge();
    await app.fetch(`/v1/configs/${key}`);
    app.clock.advance(10);
    const before = app.kv.readsOf(kvKeys.head(key));
    const sent = await Promise.all(Array.from({ length: 8 }, () => app.send(`/v1/configs/${key}`)));
    for (const { res } of sent) expect(res.headers.get("Cache-Status")).toContain("fwd=stale");
    await Promise.all(sent.map(({ settle }) => settle()));
    expect(app.kv.readsOf(kvKeys.head(key)) - before).toBe(1);
  });

  it("waits for KV once past stale-while-revalidate", async () => {
    const key = await publicKey();
    const app = edge();
    await app.fetch(`/v1/configs/${key}`);
    await publishFixture(env, { key, version: 2, content: { v: 2 } });
    app.clock.advance(36); // 31 s stale > stale-while-revalidate=30
    const res = await app.fetch(`/v1/configs/${key}`);
    expect(await res.json()).toEqual({ v: 2 });
    expect(res.headers.get("Cache-Status")).toBe("fleetconf-edge; fwd=miss; ttl=5; detail=kv");
  });

  it("follows the namespace's own max-age and stale-while-revalidate", async () => {
    const key = await publicKey({ maxAge: 60, staleWhileRevalidate: 0, staleIfError: 0 });
    const app = edge();
    const first = await app.fetch(`/v1/configs/${key}`);
    expect(first.headers.get("Cache-Control")).toBe(
      "public, max-age=60, stale-while-revalidate=0, stale-if-error=0",
    );
    app.clock.advance(59);
    expect((await app.fetch(`/v1/configs/${key}`)).headers.get("Cache-Status")).toContain("; hit; ttl=1;");
    app.clock.advance(2);
    expect((await app.fetch(`/v1/configs/${key}`)).headers.get("Cache-Status")).toContain("fwd=miss");
  });
});

describe("stale-if-error (RFC 5861 §4)", () => {
  it("serves the last good entry when KV fails past stale-while-revalidate, and says why", async () => {
    const key = await publicKey();
    const app = edge();
    await app.fetch(`/v1/configs/${key}`);
    app.kv.mode = "fail";
    app.clock.advance(100);
    const res = await app.fetch(`/v1/configs/${key}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ v: 1 });
    expect(res.headers.get("Cache-Status")).toBe(
      "fleetconf-edge; hit; fwd=stale; ttl=-95; detail=memory/kv-error",
    );
  });

  it("treats a KV read slower than the timeout as a failure", async () => {
    const key = await publicKey();
    const app = edge({ kvTimeoutMs: 50 });
    await app.fetch(`/v1/configs/${key}`);
    app.kv.mode = "hang";
    app.clock.advance(100);
    const started = Date.now();
    const res = await app.fetch(`/v1/configs/${key}`);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Status")).toContain("detail=memory/kv-timeout");
  });

  it("answers 503 with Retry-After once past stale-if-error", async () => {
    const key = await publicKey({ staleIfError: 60 });
    const app = edge();
    await app.fetch(`/v1/configs/${key}`);
    app.kv.mode = "fail";
    app.clock.advance(5 + 60 + 1);
    const res = await app.fetch(`/v1/configs/${key}`);
    expect(res.status).toBe(503);
    expect(res.headers.get("Retry-After")).toBe("5");
    expect(res.headers.get("Content-Type")).toBe("application/problem+json");
    expect(await res.json()).toMatchObject({ code: "upstream_unavailable", reason: "kv-error" });
  });

  it("answers 503 with Retry-After on a cold miss while KV is down", async () => {
    const key = await publicKey();
    const app = edge();
    app.kv.mode = "fail";
    const res = await app.fetch(`/v1/configs/${key}`);
    expect(res.status).toBe(503);
    expect(res.headers.get("Retry-After")).toBe("5");
    expect(res.headers.get("Cache-Status")).toBe("fleetconf-edge; fwd=miss; detail=kv/kv-error");
    expect(await res.json()).toMatchObject({ status: 503, code: "upstream_unavailable" });
  });

  it("keeps serving the previous version when a new head's snapshot is missing", async () => {
    const key = await publicKey();
    const app = edge();
    await app.fetch(`/v1/configs/${key}`);
    // A head for version 2 without its snapshot: must never be served.
    await publishFixture(env, { key, version: 2, content: { v: 2 }, only: "head" });
    app.clock.advance(8);
    const { res, settle } = await app.send(`/v1/configs/${key}`);
    expect(await res.json()).toEqual({ v: 1 });
    await settle();
    app.clock.advance(40);
    const later = await app.fetch(`/v1/configs/${key}`);
    expect(await later.json()).toEqual({ v: 1 });
    expect(later.headers.get("Cache-Status")).toContain("detail=memory/snapshot-missing");
    // Once the snapshot lands, the next refresh adopts version 2.
    await publishFixture(env, { key, version: 2, content: { v: 2 }, only: "snapshot" });
    app.clock.advance(40);
    expect(await (await app.fetch(`/v1/configs/${key}`)).json()).toEqual({ v: 2 });
  });

  it("answers 503 for a head whose snapshot is missing when nothing older is cached", async () => {
    const namespace = uniqueNamespace();
    await putNamespaceSettings(env, namespace, { visibility: "public" });
    const key = `${namespace}/svc/conf`;
    await publishFixture(env, { key, only: "head" });
    const res = await edge().fetch(`/v1/configs/${key}`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ reason: "snapshot-missing" });
  });

  it("reads through to KV when the Cache API fails", async () => {
    const key = await publicKey();
    const broken = {
      match: () => Promise.reject(new Error("cache down")),
      put: () => Promise.reject(new Error("cache down")),
      delete: () => Promise.reject(new Error("cache down")),
    } as unknown as Cache;
    const app = edge({ cache: () => broken });
    const res = await app.fetch(`/v1/configs/${key}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Status")).toContain("detail=kv");
  });
});
