/**
 * Publishing flagd flag definitions (docs/openfeature.md): a flagd-format key is checked against
 * flagd's JSON Schema at publish, 422 with pointers and nothing published when it breaks it.
 */
import { describe, expect, it } from "vitest";
import { FLAGD_SCHEMA_URL } from "../../core/flagd-schema";
import { demoFlags } from "../support/flagd-fixture";
import { call, freshNamespace, publish } from "./support/origin";

describe("publishing flagd flag definitions", () => {
  it("publishes a valid flagd document at {namespace}/flags", async () => {
    const res = await publish(`${freshNamespace("fd")}/flags`, demoFlags());
    expect(res.status).toBe(201);
  });

  it("refuses a document that breaks flagd's schema with 422, pointers, and no version", async () => {
    const key = `${freshNamespace("fd")}/flags`;
    const res = await publish(key, {
      flags: { f: { state: "ON", variants: { on: true }, defaultVariant: "on" } },
    });
    expect(res.status).toBe(422);
    expect(res.headers.get("Content-Type")).toBe("application/problem+json");
    const problem = (await res.json()) as { code: string; detail: string; errors: { pointer: string }[] };
    expect(problem.code).toBe("schema_violation");
    expect(problem.detail).toContain("flagd");
    expect(problem.errors.some((e) => e.pointer.startsWith("/flags/f"))).toBe(true);
    expect((await call("GET", `/v1/configs/${key}`)).status).toBe(404);
  });

  it("checks a document naming flagd's $schema at any key", async () => {
    const key = `${freshNamespace("fd")}/svc/features`;
    const bad = await publish(key, {
      $schema: FLAGD_SCHEMA_URL,
      flags: { f: { state: "ON", variants: { a: 1, b: 2 }, defaultVariant: "a" } },
    });
    expect(bad.status).toBe(422);
    expect((await publish(key, { ...demoFlags(), $schema: FLAGD_SCHEMA_URL })).status).toBe(201);
  });

  it("leaves plain JSON at other keys ending in flags alone", async () => {
    const res = await publish(`${freshNamespace("fd")}/svc/flags`, { beta: true });
    expect(res.status).toBe(201);
  });
});
