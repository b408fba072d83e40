/**
 * The origin serves its OpenAPI document and an API reference page without a token (they
 * describe the API and hold no data); the document is the one generated from the declared routes
 * (validated in test/unit/origin/openapi.test.ts).
 */
import { describe, expect, it } from "vitest";
import { call } from "./support/origin";

describe("GET /openapi.json", () => {
  it("answers the OpenAPI 3.1 document without a token", async () => {
    const res = await call("GET", "/openapi.json", { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      info: { version: string };
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/v1/configs/{key}",
        "/v1/configs/{key}/-/versions/{n}",
        "/v1/tokens",
        "/v1/audit",
      ]),
    );
  });

  it("answers the same document on every request of an isolate", async () => {
    const a = await (await call("GET", "/openapi.json", { token: null })).text();
    const b = await (await call("GET", "/openapi.json", { token: null })).text();
    expect(b).toBe(a);
  });
});

describe("GET /docs", () => {
  it("answers an HTML reference page rendered from /openapi.json, without a token", async () => {
    const res = await call("GET", "/docs", { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain("/openapi.json");
    expect(html).toContain("fleetconf admin API");
  });
});
