import { describe, expect, it } from "vitest";
import { call, originEnv } from "./support/origin";

describe("GET /healthz", () => {
  it("answers without a token with the build version", async () => {
    const res = await call("GET", "/healthz", { token: null });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, part: "origin", version: originEnv.BUILD_VERSION });
    expect(res.headers.get("Request-Id")).toBeTruthy();
  });
});

describe("GET /.well-known/jwks.json", () => {
  it("serves PUBLIC_JWKS without private members", async () => {
    const res = await call("GET", "/.well-known/jwks.json", { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("application/jwk-set+json");
    const body = (await res.json()) as { keys: Record<string, unknown>[] };
    expect(body).toEqual(JSON.parse(originEnv.PUBLIC_JWKS));
    expect(body.keys.every((k) => !("d" in k))).toBe(true);
    expect(new Set(body.keys.map((k) => k.purpose))).toEqual(new Set(["snapshot", "read-token"]));
  });
});

describe("unknown routes", () => {
  it("answer 404 problem+json outside /v1 and 401 inside /v1 without a token", async () => {
    const outside = await call("GET", "/nope", { token: null });
    expect(outside.status).toBe(404);
    expect(outside.headers.get("Content-Type")).toBe("application/problem+json");
    expect((await call("GET", "/v1/nope", { token: null })).status).toBe(401);
    expect((await call("GET", "/v1/nope")).status).toBe(404);
  });

  it("echo a well-formed Request-Id", async () => {
    const res = await call("GET", "/healthz", { token: null, headers: { "Request-Id": "abc-123" } });
    expect(res.headers.get("Request-Id")).toBe("abc-123");
  });
});
