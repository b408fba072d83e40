/**
 * `/v1/schemas/{key}` and validation of publishes against it (JSON Schema 2020-12 through
 * @cfworker/json-schema): 422 with `errors: [{pointer, message}]` and nothing changed for a
 * publish, rollback or rollout that breaks the schema; a schema the served versions break is
 * refused; malformed schemas are 400; every change is audited.
 */
import { describe, expect, it } from "vitest";
import { auditOf, finish, headOf, startRollout } from "./rollout-support";
import { adminToken, call, freshNamespace, problemOf, publish, publishOk } from "./support/origin";

const SCHEMA = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  properties: {
    rps: { type: "integer", minimum: 1 },
    regions: { type: "array", items: { type: "string" } },
    "a/b~c": { type: "boolean" },
  },
  required: ["rps"],
  additionalProperties: false,
};

function putSchema(key: string, schema: unknown, options: { token?: string | null; type?: string } = {}) {
  return call("PUT", `/v1/schemas/${key}`, {
    body: typeof schema === "string" ? schema : JSON.stringify(schema),
    headers: { "Content-Type": options.type ?? "application/schema+json" },
    ...(options.token === undefined ? {} : { token: options.token }),
  });
}

interface Violation {
  code: string;
  detail: string;
  errors: { pointer: string; message: string; keyword: string; schemaLocation: string }[];
}

async function keyWithSchema(schema: unknown = SCHEMA) {
  const key = `${freshNamespace("sc")}/svc/limits`;
  const res = await putSchema(key, schema);
  if (res.status !== 201) throw new Error(`schema PUT answered ${res.status}: ${await res.text()}`);
  return key;
}

describe("PUT/GET/DELETE /v1/schemas/{key}", () => {
  it("stores a schema (201), returns its exact bytes, and answers 200 unchanged for the same bytes", async () => {
    const key = `${freshNamespace("sc")}/svc/limits`;
    const text = JSON.stringify(SCHEMA, null, 2);
    const created = await putSchema(key, text);
    expect(created.status).toBe(201);
    const body = (await created.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ key, size: text.length, updatedBy: "tester", changed: true });
    expect(body.digest).toMatch(/^sha-256=:/);
    const read = await call("GET", `/v1/schemas/${key}`);
    expect(read.status).toBe(200);
    expect(read.headers.get("Content-Type")).toBe("application/schema+json");
    expect(read.headers.get("Content-Digest")).toBe(body.digest);
    expect(await read.text()).toBe(text);
    const again = await putSchema(key, text);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ changed: false });
  });

  it("removes a schema, after which publishes are not checked and GET is 404", async () => {
    const key = await keyWithSchema();
    const removed = await call("DELETE", `/v1/schemas/${key}`);
    expect(removed.status).toBe(200);
    expect(await removed.json()).toMatchObject({ key, deleted: true });
    expect((await call("GET", `/v1/schemas/${key}`)).status).toBe(404);
    expect((await call("DELETE", `/v1/schemas/${key}`)).status).toBe(404);
    expect((await publish(key, { anything: true })).status).toBe(201);
  });

  it.each([
    ["an array", "[]"],
    ["a number", "5"],
    ["not JSON", "{type: object}"],
    ["duplicate member names", '{"type": "object", "type": "string"}'],
    ["a wrong type keyword", '{"type": 5}'],
    ["an unknown type name", '{"type": "strin"}'],
    ["items as an array (draft-07)", '{"items": [{"type": "string"}]}'],
    ["an invalid pattern", '{"pattern": "("}'],
    ["an invalid patternProperties name", '{"patternProperties": {"(": true}}'],
    ["an unresolvable $ref", '{"$ref": "#/$defs/missing"}'],
    ["a remote $ref", '{"$ref": "https://example.com/schema.json"}'],
    ["another dialect", '{"$schema": "http://json-schema.org/draft-07/schema#"}'],
    ["a negative minLength", '{"minLength": -1}'],
    ["an empty anyOf", '{"anyOf": []}'],
  ])("refuses %s with 400 and stores nothing", async (_, text) => {
    const key = `${freshNamespace("sc")}/svc/limits`;
    const res = await putSchema(key, text);
    expect(res.status).toBe(400);
    expect((await problemOf(res)).code).toMatch(/^invalid_(request|json)$/);
    expect((await call("GET", `/v1/schemas/${key}`)).status).toBe(404);
  });

  it("accepts boolean schemas and local $refs", async () => {
    const ns = freshNamespace("sc");
    expect((await putSchema(`${ns}/a`, "true")).status).toBe(201);
    const withRef = {
      $defs: { port: { type: "integer", maximum: 65535 } },
      properties: { port: { $ref: "#/$defs/port" } },
    };
    const key = `${ns}/b`;
    expect((await putSchema(key, withRef)).status).toBe(201);
    const res = await publish(key, { port: 70000 });
    expect(res.status).toBe(422);
    expect(((await res.json()) as Violation).errors).toEqual([
      {
        pointer: "/port",
        message: "70000 is greater than 65535.",
        keyword: "maximum",
        schemaLocation: "/properties/port/$ref/maximum",
      },
    ]);
  });

  it("answers 415 for a non-JSON media type and 413 above 256 KiB", async () => {
    const key = `${freshNamespace("sc")}/svc/limits`;
    expect((await putSchema(key, SCHEMA, { type: "text/plain" })).status).toBe(415);
    const big = JSON.stringify({ description: "x".repeat(256 * 1024) });
    expect((await putSchema(key, big)).status).toBe(413);
  });

  it("needs publish:{ns} to change a schema and read:{ns} to read it", async () => {
    const key = await keyWithSchema();
    const ns = key.split("/")[0] as string;
    expect((await putSchema(key, true, { token: null })).status).toBe(401);
    expect((await putSchema(key, true, { token: await adminToken(`read:${ns}`) })).status).toBe(403);
    expect(
      (await call("DELETE", `/v1/schemas/${key}`, { token: await adminToken(`read:${ns}`) })).status,
    ).toBe(403);
    expect((await call("GET", `/v1/schemas/${key}`, { token: null })).status).toBe(401);
    expect((await call("GET", `/v1/schemas/${key}`, { token: await adminToken("read:other") })).status).toBe(
      403,
    );
    expect((await call("GET", `/v1/schemas/${key}`, { token: await adminToken(`read:${ns}`) })).status).toBe(
      200,
    );
    expect((await putSchema(key, true, { token: await adminToken(`publish:${ns}`) })).status).toBe(200);
  });

  it("answers 400 for an invalid key and 405 for other methods", async () => {
    expect((await putSchema("Bad/Key", true)).status).toBe(400);
    expect((await call("POST", `/v1/schemas/${freshNamespace("sc")}/a`)).status).toBe(405);
  });
});

describe("publishing against a schema", () => {
  it("publishes a matching document", async () => {
    const key = await keyWithSchema();
    expect((await publish(key, { rps: 5, regions: ["eu"] })).status).toBe(201);
  });

  it("answers 422 with every error as a JSON Pointer and message, and changes nothing", async () => {
    const key = await keyWithSchema();
    await publishOk(key, { rps: 5 });
    const res = await publish(key, { rps: 0, regions: ["eu", 7], "a/b~c": "yes", extra: 1 });
    expect(res.status).toBe(422);
    const problem = (await problemOf(res)) as unknown as Violation;
    expect(problem.code).toBe("schema_violation");
    expect(problem.detail).toContain("does not match the JSON Schema");
    const pointers = problem.errors.map((e) => e.pointer);
    expect(pointers).toEqual(expect.arrayContaining(["/rps", "/regions/1", "/a~1b~0c"]));
    expect(problem.errors.find((e) => e.pointer === "/rps")).toMatchObject({
      keyword: "minimum",
      message: "0 is less than 1.",
    });
    expect(problem.errors.some((e) => e.message.includes('"extra"'))).toBe(true);
    expect((await headOf(key))?.version).toBe(1);
    const { entries } = await auditOf(`key=${key}`);
    expect(entries.filter((e) => e.action === "publish")).toHaveLength(1);
  });

  it("refuses a rollback to a version that breaks the current schema", async () => {
    const key = `${freshNamespace("sc")}/svc/limits`;
    await publishOk(key, { old: true });
    await publishOk(key, { rps: 3 });
    expect((await putSchema(key, SCHEMA)).status).toBe(201);
    const res = await call("POST", `/v1/configs/${key}/-/rollback`, { json: { to: 1 } });
    expect(res.status).toBe(422);
    expect((await problemOf(res)).detail).toContain("Version 1");
    expect((await headOf(key))?.version).toBe(2);
  });

  it("refuses a rollout whose candidate breaks the schema", async () => {
    const key = await keyWithSchema();
    await publishOk(key, { rps: 3 });
    const res = await startRollout(key, { rps: "many" }, "10");
    expect(res.status).toBe(422);
    expect((await headOf(key))?.rollout).toBeNull();
  });

  it("refuses a schema that the live version breaks (422), and stores nothing", async () => {
    const key = `${freshNamespace("sc")}/svc/limits`;
    await publishOk(key, { rps: "lots" });
    const res = await putSchema(key, SCHEMA);
    expect(res.status).toBe(422);
    const problem = (await problemOf(res)) as unknown as Violation;
    expect(problem.detail).toContain("v1 (the live version)");
    expect(problem.errors[0]).toMatchObject({ pointer: "/rps", keyword: "type" });
    expect((await call("GET", `/v1/schemas/${key}`)).status).toBe(404);
  });

  it("refuses a schema that a running rollout's candidate breaks, and an abort still restores the stable content", async () => {
    const key = `${freshNamespace("sc")}/svc/limits`;
    await publishOk(key, { rps: 2 });
    expect((await startRollout(key, { rps: 2, beta: true }, "20")).status).toBe(201);
    const refused = await putSchema(key, SCHEMA);
    expect(refused.status).toBe(422);
    expect((await problemOf(refused)).detail).toContain("the rollout candidate");
    expect((await putSchema(key, { ...SCHEMA, additionalProperties: true })).status).toBe(201);
    expect((await finish(key, "abort")).status).toBe(200);
    expect(await (await call("GET", `/v1/configs/${key}`)).json()).toEqual({ rps: 2 });
  });

  it("accepts a schema set before the key's first publish, and applies it to that publish", async () => {
    const key = await keyWithSchema();
    expect((await publish(key, {})).status).toBe(422);
    expect((await call("GET", `/v1/configs/${key}`)).status).toBe(404);
  });

  it("audits schema changes with the schema's digest, and not a repeated identical PUT", async () => {
    const key = `${freshNamespace("sc")}/svc/limits`;
    const first = (await (await putSchema(key, SCHEMA)).json()) as { digest: string };
    await putSchema(key, SCHEMA);
    const second = (await (
      await call("PUT", `/v1/schemas/${key}`, {
        body: "true",
        headers: { "Content-Type": "application/json", "Config-Message": "relax" },
      })
    ).json()) as { digest: string };
    await call("DELETE", `/v1/schemas/${key}`);
    const { entries } = await auditOf(`key=${key}`);
    expect(entries.map((e) => [e.action, e.digest, e.message])).toEqual([
      ["schema_set", first.digest, null],
      ["schema_set", second.digest, "relax"],
      ["schema_delete", second.digest, null],
    ]);
    expect(entries[1]?.detail).toMatchObject({ schema: { from: first.digest, to: second.digest } });
    expect(entries[2]?.detail).toEqual({ schema: { from: second.digest, to: null } });
  });
});
