/**
 * JSON Schema `pattern` runs on RE2 (origin/validation/linear-regex.ts) inside the namespace's
 * Durable Object: a pattern that makes the backtracking engine run for minutes answers at once,
 * patterns RE2 cannot run are refused when the schema is stored, and one document's pattern work
 * is bounded by a budget (422 past it, nothing published).
 */
import { describe, expect, it } from "vitest";
import { call, freshNamespace, problemOf, publish } from "./support/origin";

function putSchema(key: string, schema: unknown) {
  return call("PUT", `/v1/schemas/${key}`, {
    body: JSON.stringify(schema),
    headers: { "Content-Type": "application/schema+json" },
  });
}

async function keyWithSchema(schema: unknown): Promise<string> {
  const key = `${freshNamespace("re")}/svc/app`;
  const res = await putSchema(key, schema);
  if (res.status !== 201) throw new Error(`schema PUT answered ${res.status}: ${await res.text()}`);
  return key;
}

describe("JSON Schema patterns on a linear-time engine", () => {
  it("answers ^(a+)+$ against 40 a's and a '!' with a 422 (the backtracking engine would take hours)", async () => {
    const key = await keyWithSchema({
      type: "object",
      properties: { name: { type: "string", pattern: "^(a+)+$" } },
    });
    const res = await publish(key, { name: `${"a".repeat(40)}!` });
    expect(res.status).toBe(422);
    const problem = (await problemOf(res)) as unknown as { errors: { keyword: string; pointer: string }[] };
    expect(problem.errors).toContainEqual(expect.objectContaining({ keyword: "pattern", pointer: "/name" }));
    expect((await publish(key, { name: "a".repeat(40) })).status).toBe(201);
  });

  it("applies patternProperties with RE2 too", async () => {
    const key = await keyWithSchema({
      type: "object",
      patternProperties: { "^x-(a+)+$": { type: "integer" } },
    });
    expect((await publish(key, { "x-aaaa": "not a number" })).status).toBe(422);
    expect((await publish(key, { [`x-${"a".repeat(40)}!`]: "anything" })).status).toBe(201);
  });

  it.each([
    ["a backreference", { pattern: "^(a)\\1$" }],
    ["a lookahead", { pattern: "^(?=a)a$" }],
    ["a lookbehind in patternProperties", { patternProperties: { "(?<=x)y": true } }],
    ["a pattern over 1024 characters", { pattern: "a".repeat(1025) }],
  ])("refuses a schema with %s (400, problem+json)", async (_name, schema) => {
    const res = await putSchema(`${freshNamespace("re")}/svc/app`, schema);
    expect(res.status).toBe(400);
    expect((await problemOf(res)).detail).toMatch(/RE2|regular expression/);
  });

  it("stops a document whose pattern tests read past the budget: 422, nothing published", async () => {
    // Five patterns over ~1 MB of strings: 5 MB of matching, past the 4 MiB budget.
    const key = await keyWithSchema({
      type: "array",
      items: { allOf: [1, 2, 3, 4, 5].map((n) => ({ type: "string", pattern: `^[a-z]*${n}?$` })) },
    });
    const body = JSON.stringify(Array.from({ length: 1000 }, () => "a".repeat(1000)));
    const res = await publish(key, body);
    expect(res.status).toBe(422);
    expect(JSON.stringify(await problemOf(res))).toContain("budget");
    expect((await call("GET", `/v1/configs/${key}`)).status).toBe(404);
  });
});
