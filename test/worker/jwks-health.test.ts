import { describe, expect, it } from "vitest";
import type { Jwks } from "../../core";
import { worker } from "../support/workerd";
import { edge, env } from "./harness";

describe("GET /.well-known/jwks.json", () => {
  it("publishes every public key with its kid and purpose, and no private member", async () => {
    const res = await edge().fetch("/.well-known/jwks.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("application/jwk-set+json");
    expect(res.headers.get("Cache-Control")).toMatch(/^public, max-age=300/);
    const jwks = (await res.json()) as Jwks;
    const configured = JSON.parse(env.PUBLIC_JWKS) as Jwks;
    expect(jwks.keys.map((k) => k.kid).sort()).toEqual(configured.keys.map((k) => k.kid).sort());
    expect(new Set(jwks.keys.map((k) => k.purpose))).toEqual(new Set(["snapshot", "read-token"]));
    for (const key of jwks.keys) {
      expect(key).toMatchObject({ kty: "OKP", crv: "Ed25519" });
      expect(Object.keys(key)).not.toContain("d");
    }
  });

  it("never publishes a private member even if PUBLIC_JWKS holds one", async () => {
    const signing = JSON.parse(env.SIGNING_KEYS) as Record<string, unknown>[];
    const { newApp } = await import("../../worker/app");
    const { createExecutionContext } = await import("cloudflare:test");
    const leaky = { ...env, PUBLIC_JWKS: JSON.stringify({ keys: signing }) };
    const res = await newApp({ log: false }).fetch(
      new Request("https://edge.test/.well-known/jwks.json"),
      leaky,
      createExecutionContext(),
    );
    const text = await res.text();
    expect(text).not.toContain('"d"');
    expect(text).toContain(String(signing[0]?.kid));
  });

  it("returns 304 when If-None-Match matches its ETag", async () => {
    const app = edge();
    const etag = (await app.fetch("/.well-known/jwks.json")).headers.get("ETag") ?? "";
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    const res = await app.fetch("/.well-known/jwks.json", { headers: { "If-None-Match": etag } });
    expect(res.status).toBe(304);
    expect(await res.text()).toBe("");
  });

  it("answers 500 problem+json with a request id when PUBLIC_JWKS is malformed", async () => {
    const { newApp } = await import("../../worker/app");
    const { createExecutionContext } = await import("cloudflare:test");
    const res = await newApp({ log: false }).fetch(
      new Request("https://edge.test/.well-known/jwks.json"),
      { ...env, PUBLIC_JWKS: "{not json" },
      createExecutionContext(),
    );
    expect(res.status).toBe(500);
    expect(res.headers.get("Request-Id")).toBeTruthy();
    expect(await res.json()).toMatchObject({ code: "internal" });
  });
});

describe("GET /healthz", () => {
  it("answers with liveness and the build version", async () => {
    const res = await worker.fetch("http://edge/healthz");
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(await res.json()).toEqual({ ok: true, part: "edge", version: env.BUILD_VERSION });
  });

  it("echoes a well-formed Request-Id", async () => {
    const res = await worker.fetch("http://edge/healthz", { headers: { "Request-Id": "req-123" } });
    expect(res.headers.get("Request-Id")).toBe("req-123");
  });
});
