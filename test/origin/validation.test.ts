/**
 * Every declared route's validator refuses bad input with 400 problem+json before its handler
 * runs, naming each refused field in an `errors` member (RFC 9457 §3 extension): a body member by
 * JSON Pointer (RFC 6901), a path or query parameter or a header by name. The codes and details
 * of the core parsers are kept (invalid_key, invalid_version…).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { call, freshNamespace, problemOf, publishOk } from "./support/origin";

const ns = freshNamespace("val");
const key = `${ns}/app`;

beforeAll(async () => {
  await publishOk(key, { v: 1 });
});

interface FieldError {
  pointer?: string;
  parameter?: string;
  header?: string;
  detail: string;
}

async function refused(res: Response) {
  expect(res.status).toBe(400);
  const problem = (await problemOf(res)) as unknown as { code: string; detail: string; errors: FieldError[] };
  expect(Array.isArray(problem.errors)).toBe(true);
  for (const error of problem.errors) expect(typeof error.detail).toBe("string");
  return problem;
}

describe("body members are named by JSON Pointer", () => {
  it("names /to for a rollback to a string version", async () => {
    const problem = await refused(await call("POST", `/v1/configs/${key}/-/rollback`, { json: { to: "1" } }));
    expect(problem.code).toBe("invalid_request");
    expect(problem.errors).toEqual([{ pointer: "/to", detail: expect.stringContaining("positive integer") }]);
  });

  it("names each unknown member, one error each", async () => {
    const problem = await refused(
      await call("POST", `/v1/configs/${key}/-/rollback`, { json: { to: 1, force: true, "a/b": 1 } }),
    );
    expect(problem.errors.map((e) => e.pointer).sort()).toEqual(["/a~1b", "/force"]);
  });

  it("names /maxage for a misspelt namespace setting and /maxAge for a bad value", async () => {
    const misspelt = await refused(await call("PUT", `/v1/namespaces/${ns}`, { json: { maxage: 5 } }));
    expect(misspelt.errors).toEqual([{ pointer: "/maxage", detail: 'Unknown member "maxage".' }]);
    const bad = await refused(
      await call("PUT", `/v1/namespaces/${ns}`, { json: { maxAge: -1, visibility: "x" } }),
    );
    expect(bad.errors.map((e) => e.pointer).sort()).toEqual(["/maxAge", "/visibility"]);
  });

  it("names /percent for a rollout hold with three decimals", async () => {
    const problem = await refused(
      await call("PATCH", `/v1/configs/${key}/-/rollout`, { json: { percent: 1.234 } }),
    );
    expect(problem.errors).toEqual([
      { pointer: "/percent", detail: expect.stringContaining("two decimals") },
    ]);
  });

  it("names /ttl for a read token with a ttl under a minute", async () => {
    const problem = await refused(
      await call("POST", "/v1/tokens", { json: { scope: `read:${ns}`, ttl: 10 } }),
    );
    expect(problem.errors).toEqual([{ pointer: "/ttl", detail: expect.stringContaining("ttl must be") }]);
  });

  it("refuses a body that is not an object, pointing at the whole document", async () => {
    const problem = await refused(await call("POST", `/v1/configs/${key}/-/rollback`, { json: [1] }));
    expect(problem.errors).toEqual([{ pointer: "", detail: expect.any(String) }]);
  });
});

describe("parameters and headers are named", () => {
  it("names the key parameter, keeping the invalid_key code", async () => {
    const problem = await refused(await call("GET", `/v1/configs/${ns}/App/-/versions`));
    expect(problem.code).toBe("invalid_key");
    expect(problem.errors).toEqual([{ parameter: "key", detail: expect.stringContaining("Invalid key") }]);
  });

  it("names the version parameter, keeping the invalid_version code", async () => {
    const problem = await refused(await call("GET", `/v1/configs/${key}/-/versions/0`));
    expect(problem.code).toBe("invalid_version");
    expect(problem.errors).toEqual([{ parameter: "n", detail: "A version is a positive integer." }]);
  });

  it("names the limit query parameter", async () => {
    const problem = await refused(await call("GET", `/v1/configs/${key}/-/versions?limit=abc`));
    expect(problem.errors).toEqual([
      { parameter: "limit", detail: "limit must be an integer from 1 to 1000." },
    ]);
  });

  it("names the If-Match header", async () => {
    const problem = await refused(
      await call("PUT", `/v1/configs/${key}`, {
        body: '{"v": 2}',
        headers: { "Content-Type": "application/json", "If-Match": "nope" },
      }),
    );
    expect(problem.errors).toEqual([
      { header: "if-match", detail: expect.stringContaining("If-Match must be") },
    ]);
  });

  it("answers before the handler: nothing was published by the refused requests", async () => {
    const res = await call("GET", `/v1/configs/${key}`);
    expect(res.headers.get("Config-Version")).toBe("1");
  });
});
