import { describe, expect, it } from "vitest";
import {
  publicConfig,
  publishFixture,
  putNamespaceSettings,
  readTokenFor,
} from "../support/snapshot-fixture";
import { bearer, edge, env, TestClock } from "./harness";

function purgeRequest(body: unknown, secret: string | null = env.PURGE_SECRET): RequestInit {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (secret !== null) headers["Fleetconf-Purge-Secret"] = secret;
  return { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) };
}

const publicKey = (content: unknown = { v: 1 }) => publicConfig(env, { content });

describe("POST /internal/purge", () => {
  it("clears a key's head so the next read serves the new version at once", async () => {
    const { key } = await publicKey();
    const app = edge();
    expect(await (await app.fetch(`/v1/configs/${key}`)).json()).toEqual({ v: 1 });
    await publishFixture(env, { key, version: 2, content: { v: 2 } });
    expect(await (await app.fetch(`/v1/configs/${key}`)).json()).toEqual({ v: 1 }); // still fresh in memory

    const purge = await app.fetch("/internal/purge", purgeRequest({ keys: [key] }));
    expect(purge.status).toBe(200);
    expect(await purge.json()).toEqual({ purged: { keys: 1, namespaces: 0 } });

    const res = await app.fetch(`/v1/configs/${key}`);
    expect(await res.json()).toEqual({ v: 2 });
    expect(res.headers.get("Cache-Status")).toContain("fwd=miss");
  });

  it("clears the location's Cache API too, so other isolates see the new version", async () => {
    const { key } = await publicKey();
    const clock = new TestClock();
    const warm = edge({ clock });
    await warm.fetch(`/v1/configs/${key}`);
    await publishFixture(env, { key, version: 2, content: { v: 2 } });
    // The purge lands on one isolate; another isolate with empty memory reads the shared cache.
    await edge({ clock }).fetch("/internal/purge", purgeRequest({ keys: [key] }));
    const other = edge({ clock });
    const res = await other.fetch(`/v1/configs/${key}`);
    expect(await res.json()).toEqual({ v: 2 });
    expect(res.headers.get("Cache-Status")).toContain("detail=kv");
  });

  it("clears namespace settings so a visibility change applies at once", async () => {
    const { namespace, key } = await publicKey();
    const app = edge();
    expect((await app.fetch(`/v1/configs/${key}`)).status).toBe(200);
    await putNamespaceSettings(env, namespace, { visibility: "private" });
    await app.fetch("/internal/purge", purgeRequest({ namespaces: [namespace] }));
    expect((await app.fetch(`/v1/configs/${key}`)).status).toBe(401);
    const authed = await app.fetch(
      `/v1/configs/${key}`,
      bearer(await readTokenFor(env, `read:${namespace}`)),
    );
    expect(authed.status).toBe(200);
    expect(authed.headers.get("Cache-Control")).toMatch(/^private, /);
  });

  it("keeps a purged entry only as a stale-if-error fallback", async () => {
    const { key } = await publicKey();
    const app = edge();
    await app.fetch(`/v1/configs/${key}`);
    await app.fetch("/internal/purge", purgeRequest({ keys: [key] }));
    app.kv.mode = "fail";
    const res = await app.fetch(`/v1/configs/${key}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Status")).toContain("fwd=stale");
    expect(res.headers.get("Cache-Status")).toContain("detail=memory/kv-error");
  });

  it("does not store a refresh that read KV before the purge", async () => {
    const { key } = await publicKey();
    const app = edge();
    await app.fetch(`/v1/configs/${key}`);
    app.clock.advance(8);
    let release = () => {};
    app.kv.hold = new Promise((resolve) => (release = resolve));
    // A stale read starts a background refresh, which reads head v1 and is held there.
    const stale = await app.send(`/v1/configs/${key}`);
    expect(stale.res.headers.get("Cache-Status")).toContain("fwd=stale");
    app.kv.hold = null;
    await publishFixture(env, { key, version: 2, content: { v: 2 } });
    await app.fetch("/internal/purge", purgeRequest({ keys: [key] }));
    release();
    await stale.settle();
    expect(await (await app.fetch(`/v1/configs/${key}`)).json()).toEqual({ v: 2 });
  });

  it("counts distinct keys and namespaces and accepts an empty purge", async () => {
    const app = edge();
    const both = await app.fetch(
      "/internal/purge",
      purgeRequest({ keys: ["a/b", "a/b", "a/c/d"], namespaces: ["a"] }),
    );
    expect(await both.json()).toEqual({ purged: { keys: 2, namespaces: 1 } });
    expect(await (await app.fetch("/internal/purge", purgeRequest({}))).json()).toEqual({
      purged: { keys: 0, namespaces: 0 },
    });
  });

  it.each([
    ["a missing secret", null],
    ["a wrong secret", "nope"],
    ["an empty secret", ""],
    ["the secret with a suffix", `${env.PURGE_SECRET}x`],
  ])("answers 401 problem+json for %s and purges nothing", async (_name, secret) => {
    const { key } = await publicKey();
    const app = edge();
    await app.fetch(`/v1/configs/${key}`);
    await publishFixture(env, { key, version: 2, content: { v: 2 } });
    const res = await app.fetch("/internal/purge", purgeRequest({ keys: [key] }, secret));
    expect(res.status).toBe(401);
    expect(res.headers.get("Content-Type")).toBe("application/problem+json");
    expect(await (await app.fetch(`/v1/configs/${key}`)).json()).toEqual({ v: 1 });
  });

  it("refuses everyone when PURGE_SECRET is not configured", async () => {
    const { newApp } = await import("../../worker/app");
    const { createExecutionContext } = await import("cloudflare:test");
    const unconfigured = { ...env, PURGE_SECRET: "" };
    for (const secret of [null, ""]) {
      const res = await newApp({ log: false }).fetch(
        new Request("https://edge.test/internal/purge", purgeRequest({}, secret)),
        unconfigured,
        createExecutionContext(),
      );
      expect(res.status).toBe(401);
    }
  });

  it.each([
    ["not JSON", "{"],
    ["an array", "[]"],
    ["keys not an array", { keys: "a/b" }],
    ["an invalid key", { keys: ["A/B"] }],
    ["a one-segment key", { keys: ["a"] }],
    ["an invalid namespace", { namespaces: ["a/b"] }],
    ["a non-string entry", { keys: [42] }],
    ["too many keys", { keys: Array.from({ length: 1001 }, (_, i) => `a/k${i}`) }],
  ])("answers 400 for %s", async (_name, body) => {
    const res = await edge().fetch("/internal/purge", purgeRequest(body));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_request" });
  });

  it("answers 413 for an oversized body", async () => {
    const res = await edge().fetch(
      "/internal/purge",
      purgeRequest(`{"keys":[${'"a/b",'.repeat(60_000)}"a/b"]}`),
    );
    expect(res.status).toBe(413);
  });

  it("answers 405 for GET", async () => {
    const res = await edge().fetch("/internal/purge");
    expect(res.status).toBe(405);
    expect(res.headers.get("Allow")).toBe("POST");
  });
});
