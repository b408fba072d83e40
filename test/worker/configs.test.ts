import { describe, expect, it } from "vitest";
import { fromBase64, type Jwks, sha256, toBase64, verifySnapshot } from "../../core";
import {
  deleteFixture,
  publishFixture,
  putNamespaceSettings,
  rolloutFixture,
  uniqueNamespace,
} from "../support/snapshot-fixture";
import { edge, env } from "./harness";

async function publicConfig(content: unknown = { feature: true, limit: 3 }) {
  const namespace = uniqueNamespace();
  await putNamespaceSettings(env, namespace, { visibility: "public" });
  const key = `${namespace}/prod/flags`;
  const snapshot = await publishFixture(env, { key, content });
  return { namespace, key, snapshot };
}

describe("GET /v1/configs/{key}", () => {
  it("returns the exact published bytes with every identity header", async () => {
    const raw = '{ "b": 1,\n  "a": [true, null, "\\u00e9"] }';
    const namespace = uniqueNamespace();
    await putNamespaceSettings(env, namespace, { visibility: "public" });
    const key = `${namespace}/svc/app`;
    const snapshot = await publishFixture(env, { key, raw, publishedAt: Date.UTC(2026, 0, 2, 3, 4, 5, 600) });

    const res = await edge().fetch(`/v1/configs/${key}`);

    expect(res.status).toBe(200);
    expect(await res.text()).toBe(raw);
    expect(res.headers.get("Content-Type")).toBe("application/json");
    expect(res.headers.get("ETag")).toBe(snapshot.meta.etag);
    expect(res.headers.get("ETag")).toMatch(/^"1-[A-Za-z0-9_-]{22}"$/);
    expect(res.headers.get("Config-Version")).toBe("1");
    expect(res.headers.get("Content-Digest")).toBe(snapshot.meta.digest);
    expect(res.headers.get("Config-Signature")).toBe(snapshot.meta.signature);
    expect(res.headers.get("Last-Modified")).toBe("Fri, 02 Jan 2026 03:04:05 GMT");
    expect(res.headers.get("Cache-Control")).toBe(
      "public, max-age=5, stale-while-revalidate=30, stale-if-error=86400",
    );
    expect(res.headers.get("Cache-Status")).toBe("fleetconf-edge; fwd=miss; ttl=5; detail=kv");
    // Cache-Tag belongs on the Cache API entries (tiers.test.ts), not on client responses.
    expect(res.headers.get("Cache-Tag")).toBeNull();
    // Public and outside a rollout: one entry per key in a shared cache (DESIGN §3, vary.test.ts).
    expect(res.headers.get("Vary")).toBeNull();
    expect(res.headers.get("Server-Timing")).toMatch(/^edge;dur=[0-9.]+;desc="kv"$/);
    expect(res.headers.get("Request-Id")).toBeTruthy();
  });

  it("serves a Content-Digest that matches the SHA-256 of the body", async () => {
    const { key } = await publicConfig({ list: Array.from({ length: 100 }, (_, i) => i) });
    const res = await edge().fetch(`/v1/configs/${key}`);
    const body = new Uint8Array(await res.arrayBuffer());
    const digest = res.headers.get("Content-Digest") ?? "";
    const match = /^sha-256=:([A-Za-z0-9+/=]+):$/.exec(digest);
    expect(match?.[1]).toBeDefined();
    expect(toBase64(await sha256(body))).toBe(match?.[1]);
    expect(fromBase64(match?.[1] ?? "")).toHaveLength(32);
  });

  it("serves a Config-Signature that verifies against the served JWKS", async () => {
    const { key } = await publicConfig();
    const app = edge();
    const res = await app.fetch(`/v1/configs/${key}`);
    const body = new Uint8Array(await res.arrayBuffer());
    const jwks = (await (await app.fetch("/.well-known/jwks.json")).json()) as Jwks;
    const check = await verifySnapshot(res.headers.get("Config-Signature") ?? "", body, jwks);
    expect(check).toMatchObject({ ok: true, header: { key, ver: 1, alg: "EdDSA", b64: false } });
    const tampered = Uint8Array.from(body);
    tampered[0] = 0x20;
    expect(await verifySnapshot(res.headers.get("Config-Signature") ?? "", tampered, jwks)).toMatchObject({
      ok: false,
      code: "bad_signature",
    });
  });

  it("serves the same bytes on every hot request", async () => {
    const { key } = await publicConfig({ s: "x".repeat(5000) });
    const app = edge();
    const first = await (await app.fetch(`/v1/configs/${key}`)).text();
    for (let i = 0; i < 3; i++) {
      const res = await app.fetch(`/v1/configs/${key}`);
      expect(res.headers.get("Cache-Status")).toMatch(/; hit; ttl=\d+; detail=memory$/);
      expect(await res.text()).toBe(first);
    }
  });

  it("answers HEAD like GET without a body", async () => {
    const { key, snapshot } = await publicConfig();
    const res = await edge().fetch(`/v1/configs/${key}`, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("ETag")).toBe(snapshot.meta.etag);
    expect(res.headers.get("Config-Signature")).toBe(snapshot.meta.signature);
    expect(res.headers.get("Content-Length")).toBe(String(snapshot.meta.size));
    expect(await res.text()).toBe("");
  });
});

describe("GET /v1/configs/{key}?version=N", () => {
  it("serves that immutable version with a long immutable Cache-Control", async () => {
    const { key } = await publicConfig({ v: 1 });
    await publishFixture(env, { key, version: 2, content: { v: 2 } });
    const app = edge();
    const old = await app.fetch(`/v1/configs/${key}?version=1`);
    expect(old.status).toBe(200);
    expect(await old.json()).toEqual({ v: 1 });
    expect(old.headers.get("Config-Version")).toBe("1");
    expect(old.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
    const current = await app.fetch(`/v1/configs/${key}`);
    expect(await current.json()).toEqual({ v: 2 });
    expect(current.headers.get("ETag")).not.toBe(old.headers.get("ETag"));
  });

  it("answers 404 for a version that was never published", async () => {
    const { key } = await publicConfig();
    const res = await edge().fetch(`/v1/configs/${key}?version=7`);
    expect(res.status).toBe(404);
    expect(res.headers.get("Content-Type")).toBe("application/problem+json");
    expect(await res.json()).toMatchObject({ code: "not_found", status: 404 });
  });

  it("answers 404 for an old version whose snapshot KV does not hold", async () => {
    const namespace = uniqueNamespace();
    await putNamespaceSettings(env, namespace, { visibility: "public" });
    const key = `${namespace}/a`;
    await publishFixture(env, { key, version: 3 });
    expect((await edge().fetch(`/v1/configs/${key}?version=2`)).status).toBe(404);
  });

  it.each(["0", "-1", "abc", "1.5", "", "01", "9999999999999999"])(
    "answers 400 for ?version=%s",
    async (version) => {
      const { key } = await publicConfig();
      const res = await edge().fetch(`/v1/configs/${key}?version=${version}`);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: "invalid_version" });
    },
  );

  it("answers 400 when version is given twice", async () => {
    const { key } = await publicConfig();
    expect((await edge().fetch(`/v1/configs/${key}?version=1&version=1`)).status).toBe(400);
  });
});

describe("rollouts (cohorts: test/worker/rollout.test.ts)", () => {
  it("serves the stable version to requests without a client id, and the candidate by ?version=N", async () => {
    const { key } = await rolloutFixture(env, {
      mode: "fixed",
      percent: 50,
      start: 50,
      step: 0,
      everySeconds: 0,
    });
    const app = edge();
    for (let i = 0; i < 4; i++) {
      const res = await app.fetch(`/v1/configs/${key}`);
      expect(res.headers.get("Config-Version")).toBe("1");
    }
    const pinned = await app.fetch(`/v1/configs/${key}?version=2`);
    expect(pinned.status).toBe(200);
    expect(await pinned.json()).toEqual({ v: 2 });
    expect((await app.fetch(`/v1/configs/${key}?version=3`)).status).toBe(404);
  });
});

describe("GET /v1/configs/{key} errors", () => {
  it("answers 404 problem+json for a key never published", async () => {
    const namespace = uniqueNamespace();
    await putNamespaceSettings(env, namespace, { visibility: "public" });
    const res = await edge().fetch(`/v1/configs/${namespace}/nothing/here`);
    expect(res.status).toBe(404);
    expect(res.headers.get("Content-Type")).toBe("application/problem+json");
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(res.headers.get("Cache-Status")).toBe("fleetconf-edge; fwd=miss; ttl=5; detail=kv");
    expect(await res.json()).toMatchObject({ code: "not_found", status: 404, title: "Not found" });
  });

  it("answers 404 for a deleted key and every one of its versions", async () => {
    const { key, snapshot } = await publicConfig();
    await deleteFixture(env, snapshot);
    const app = edge();
    expect((await app.fetch(`/v1/configs/${key}`)).status).toBe(404);
    expect((await app.fetch(`/v1/configs/${key}?version=1`)).status).toBe(404);
  });

  it("stops serving a key from memory once its head says deleted", async () => {
    const { key, snapshot } = await publicConfig();
    const app = edge();
    expect((await app.fetch(`/v1/configs/${key}?version=1`)).status).toBe(200);
    await deleteFixture(env, snapshot);
    app.clock.advance(40); // past max-age and stale-while-revalidate: the next read goes to KV
    expect((await app.fetch(`/v1/configs/${key}`)).status).toBe(404);
    expect((await app.fetch(`/v1/configs/${key}?version=1`)).status).toBe(404);
  });

  it.each([
    ["one segment", "payments"],
    ["five segments", "a/b/c/d/e"],
    ["upper case", "Payments/prod"],
    // URL parsing resolves dot segments first, so "a/../b" arrives as one segment.
    ["a dot-dot segment", "payments/../x"],
    ["a trailing slash", "payments/prod/"],
    ["a space", "payments/pr%20od"],
    ["an encoded slash", "payments%2Fprod/x"],
    ["an empty segment", "payments//x"],
    ["a leading dash", "payments/-x"],
    ["a 65-char segment", `payments/${"a".repeat(65)}`],
  ])("answers 400 invalid_key for %s", async (_name, key) => {
    const res = await edge().fetch(`/v1/configs/${key}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_key", status: 400 });
  });

  it("answers 400 for a malformed Config-Client-Id", async () => {
    const { key } = await publicConfig();
    for (const id of ["", "a b", "x".repeat(129), "a/b", "a,b"]) {
      const res = await edge().fetch(`/v1/configs/${key}`, { headers: { "Config-Client-Id": id } });
      expect(res.status, JSON.stringify(id)).toBe(400);
    }
    const ok = await edge().fetch(`/v1/configs/${key}`, {
      headers: { "Config-Client-Id": "host-1.eu:az_b" },
    });
    expect(ok.status).toBe(200);
  });

  it.each(["POST", "PUT", "DELETE", "PATCH"])("answers 405 with Allow for %s", async (method) => {
    const { key } = await publicConfig();
    const res = await edge().fetch(`/v1/configs/${key}`, { method, body: method === "DELETE" ? null : "{}" });
    expect(res.status).toBe(405);
    expect(res.headers.get("Allow")).toBe("GET, HEAD");
  });

  it("answers 404 problem+json for an unknown route", async () => {
    const res = await edge().fetch("/v2/whatever");
    expect(res.status).toBe(404);
    expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  });

  it("refuses a corrupt head in KV with 503 rather than serving it", async () => {
    const namespace = uniqueNamespace();
    await putNamespaceSettings(env, namespace, { visibility: "public" });
    await env.CONFIGS.put(`head/${namespace}/x`, '{"v":1,"key":"someone/else","version":1}');
    const res = await edge().fetch(`/v1/configs/${namespace}/x`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: "upstream_unavailable", reason: "corrupt-record" });
  });
});

describe("the default export", () => {
  it("serves configs through the real entry point", async () => {
    const { worker } = await import("../support/workerd");
    const { key, snapshot } = await publicConfig();
    const res = await worker.fetch(`http://edge/v1/configs/${key}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("ETag")).toBe(snapshot.meta.etag);
  });
});
