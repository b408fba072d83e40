/**
 * Sub-resources sit behind `/-/` (DESIGN §4), so every valid key reaches its own content — keys
 * whose last segment is `versions`, `rollout`, `diff`, `fleet` or `rollback` included — and the
 * old spellings that could shadow a key (GET `…/versions`, `…/rollout`, `…/diff`, `…/fleet`) are
 * gone. The old POST/PATCH spellings, which cannot shadow a key, answer with `Deprecation`
 * (RFC 9745) and a `Link` to their successor.
 */
import { describe, expect, it } from "vitest";
import { call, freshNamespace, problemOf, publishOk } from "./support/origin";

const SUB_RESOURCE_NAMES = ["rollout", "versions", "diff", "fleet", "rollback"];

describe("a key whose last segment names a sub-resource", () => {
  it.each(SUB_RESOURCE_NAMES)(
    "payments/prod/%s is published, read, rolled back and diffed as itself",
    async (last) => {
      const ns = freshNamespace("paths");
      const parent = `${ns}/prod`;
      const key = `${ns}/prod/${last}`;
      // The parent key exists too, so a path read as the parent's sub-resource would answer something.
      await publishOk(parent, { parent: true });
      expect((await publishOk(key, { v: 1 })).version).toBe(1);
      expect((await publishOk(key, { v: 2 })).version).toBe(2);

      const read = await call("GET", `/v1/configs/${key}`);
      expect(read.status).toBe(200);
      expect(read.headers.get("Config-Version")).toBe("2");
      expect(await read.json()).toEqual({ v: 2 });

      const history = await call("GET", `/v1/configs/${key}/-/versions`);
      expect(
        ((await history.json()) as { versions: { version: number }[] }).versions.map((v) => v.version),
      ).toEqual([2, 1]);

      const rolledBack = await call("POST", `/v1/configs/${key}/-/rollback`, { json: { to: 1 } });
      expect(rolledBack.status).toBe(201);
      expect(await rolledBack.json()).toMatchObject({ key, version: 3 });
      expect(await (await call("GET", `/v1/configs/${key}`)).json()).toEqual({ v: 1 });

      const diff = await call("GET", `/v1/configs/${key}/-/diff?from=2&to=3`);
      expect(diff.status).toBe(200);
      expect(await diff.json()).toEqual([
        { op: "test", path: "/v", value: 2 },
        { op: "replace", path: "/v", value: 1 },
      ]);

      // The parent is untouched by all of it.
      const parentRead = await call("GET", `/v1/configs/${parent}`);
      expect(parentRead.headers.get("Config-Version")).toBe("1");
    },
  );

  it("reads one version of payments/prod/versions through /-/versions/{n}", async () => {
    const ns = freshNamespace("paths");
    await publishOk(`${ns}/prod/versions`, { n: 1 });
    const res = await call("GET", `/v1/configs/${ns}/prod/versions/-/versions/1`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ key: `${ns}/prod/versions`, version: 1, content: { n: 1 } });
  });

  it("answers the rollout and fleet views of such a key under /-/", async () => {
    const ns = freshNamespace("paths");
    const key = `${ns}/prod/rollout`;
    await publishOk(key, { a: 1 });
    const rollout = await call("GET", `/v1/configs/${key}/-/rollout`);
    expect(await rollout.json()).toMatchObject({ key, state: "none", live: { version: 1 } });
    const fleet = await call("GET", `/v1/configs/${key}/-/fleet`);
    expect(await fleet.json()).toMatchObject({ key, clients: 0, current: 1 });
  });
});

describe("old spellings", () => {
  it.each(["versions", "rollout", "diff", "fleet"])(
    "GET {key}/%s is the key of that name, not a view of {key}",
    async (last) => {
      const ns = freshNamespace("paths");
      await publishOk(`${ns}/app`, { a: 1 });
      const res = await call("GET", `/v1/configs/${ns}/app/${last}`);
      expect(res.status).toBe(404);
      expect((await problemOf(res)).code).toBe("not_found");
    },
  );

  it("keeps POST {key}/rollback working, marked deprecated with its successor", async () => {
    const ns = freshNamespace("paths");
    const key = `${ns}/app`;
    await publishOk(key, { v: 1 });
    await publishOk(key, { v: 2 });
    const res = await call("POST", `/v1/configs/${key}/rollback`, { json: { to: 1 } });
    expect(res.status).toBe(201);
    expect(res.headers.get("Deprecation")).toMatch(/^@[0-9]+$/);
    expect(res.headers.get("Link")).toBe(`</v1/configs/${key}/-/rollback>; rel="successor-version"`);
    expect(await (await call("GET", `/v1/configs/${key}`)).json()).toEqual({ v: 1 });
  });

  it("keeps PATCH {key}/rollout and POST {key}/rollout/abort, marked deprecated", async () => {
    const ns = freshNamespace("paths");
    const key = `${ns}/app`;
    await publishOk(key, { v: 1 });
    await publishOk(key, { v: 2 }, { headers: { "Config-Rollout": "10" } });
    const patched = await call("PATCH", `/v1/configs/${key}/rollout`, { json: { percent: 40 } });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ state: "running", percent: 40 });
    expect(patched.headers.get("Link")).toBe(`</v1/configs/${key}/-/rollout>; rel="successor-version"`);
    const aborted = await call("POST", `/v1/configs/${key}/rollout/abort`);
    expect(aborted.status).toBe(200);
    expect(aborted.headers.get("Deprecation")).toMatch(/^@[0-9]+$/);
    expect(aborted.headers.get("Link")).toBe(`</v1/configs/${key}/-/rollout/abort>; rel="successor-version"`);
  });

  it("does not mark the new spellings deprecated", async () => {
    const ns = freshNamespace("paths");
    const key = `${ns}/app`;
    await publishOk(key, { v: 1 });
    const res = await call("GET", `/v1/configs/${key}/-/versions`);
    expect(res.headers.get("Deprecation")).toBeNull();
  });

  it("answers 405 with Allow for POST and PATCH on a config itself", async () => {
    const ns = freshNamespace("paths");
    for (const method of ["POST", "PATCH"]) {
      const res = await call(method, `/v1/configs/${ns}/app`, { json: {} });
      expect(res.status).toBe(405);
      expect(res.headers.get("Allow")).toBe("GET, HEAD, PUT, DELETE");
    }
  });
});
