import { describe, expect, it } from "vitest";
import { decodeSnapshot, type HeadRecord, kvKeys } from "../../core";
import { adminToken, call, freshNamespace, originEnv, problemOf, publishOk } from "./support/origin";

describe("DELETE /v1/configs/{key}", () => {
  it("tombstones the key: 200, then 404 for GET, head deleted in KV, history kept", async () => {
    const key = `${freshNamespace()}/app`;
    await publishOk(key, { a: 1 });
    const v2 = await publishOk(key, { a: 2 });
    const res = await call("DELETE", `/v1/configs/${key}`, { headers: { "Config-Message": "retired" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ key, deleted: true, version: 2, distribution: "complete" });

    const get = await call("GET", `/v1/configs/${key}`);
    expect(get.status).toBe(404);
    expect((await problemOf(get)).detail).toContain("deleted");

    const head = (await originEnv.CONFIGS.get(kvKeys.head(key), "json")) as HeadRecord;
    expect(head).toMatchObject({ key, deleted: true, version: 2, etag: v2.etag, rollout: null });

    const history = (await (await call("GET", `/v1/configs/${key}/-/versions`)).json()) as {
      versions: { version: number }[];
    };
    expect(history.versions.map((v) => v.version)).toEqual([2, 1]);
    const old = JSON.parse(await (await call("GET", `/v1/configs/${key}/-/versions/1`)).text());
    expect(old).toMatchObject({ current: false, content: { a: 1 } });
  });

  it("never reuses a version number after delete: a republish continues at n+1", async () => {
    const key = `${freshNamespace()}/app`;
    await publishOk(key, { a: 1 });
    await publishOk(key, { a: 2 });
    await call("DELETE", `/v1/configs/${key}`);
    const again = await publishOk(key, { a: 1 });
    expect(again.version).toBe(3);
    const head = (await originEnv.CONFIGS.get(kvKeys.head(key), "json")) as HeadRecord;
    expect(head).toMatchObject({ version: 3, deleted: false });
    expect((await call("GET", `/v1/configs/${key}`)).status).toBe(200);
  });

  it("answers 404 for a key never published and for a second delete", async () => {
    const key = `${freshNamespace()}/app`;
    expect((await call("DELETE", `/v1/configs/${key}`)).status).toBe(404);
    await publishOk(key, {});
    expect((await call("DELETE", `/v1/configs/${key}`)).status).toBe(200);
    expect((await call("DELETE", `/v1/configs/${key}`)).status).toBe(404);
  });

  it("honours If-Match: 412 for a stale ETag, leaving the key live", async () => {
    const key = `${freshNamespace()}/app`;
    const v1 = await publishOk(key, { a: 1 });
    await publishOk(key, { a: 2 });
    const res = await call("DELETE", `/v1/configs/${key}`, { headers: { "If-Match": v1.etag } });
    expect(res.status).toBe(412);
    expect((await call("GET", `/v1/configs/${key}`)).status).toBe(200);
  });

  it("answers 403 for a token that may only read the namespace", async () => {
    const ns = freshNamespace();
    await publishOk(`${ns}/app`, {});
    const res = await call("DELETE", `/v1/configs/${ns}/app`, { token: await adminToken(`read:${ns}`) });
    expect(res.status).toBe(403);
    expect((await call("GET", `/v1/configs/${ns}/app`)).status).toBe(200);
  });
});

describe("POST /v1/configs/{key}/-/rollback", () => {
  it("publishes version n's content as a new version (201)", async () => {
    const key = `${freshNamespace()}/app`;
    await publishOk(key, '{"good": true}');
    await publishOk(key, '{"good": false}');
    const res = await call("POST", `/v1/configs/${key}/-/rollback`, { json: { to: 1 } });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { version: number; etag: string };
    expect(body.version).toBe(3);
    expect(res.headers.get("Location")).toBe(`/v1/configs/${key}/-/versions/3`);
    const current = await call("GET", `/v1/configs/${key}`);
    expect(await current.text()).toBe('{"good": true}');
    expect(current.headers.get("Config-Version")).toBe("3");
    const snapshot = decodeSnapshot(
      (await originEnv.CONFIGS.get(kvKeys.snapshot(key, 3), "arrayBuffer")) as ArrayBuffer,
    );
    expect(snapshot.meta.etag).toBe(body.etag);
    expect(new TextDecoder().decode(snapshot.body)).toBe('{"good": true}');
  });

  it("restores a deleted key", async () => {
    const key = `${freshNamespace()}/app`;
    await publishOk(key, { a: 1 });
    await call("DELETE", `/v1/configs/${key}`);
    const res = await call("POST", `/v1/configs/${key}/-/rollback`, { json: { to: 1 } });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ version: 2 });
    expect((await call("GET", `/v1/configs/${key}`)).status).toBe(200);
  });

  it("answers 200 without a new version when version n equals the current content", async () => {
    const key = `${freshNamespace()}/app`;
    await publishOk(key, { a: 1 });
    const res = await call("POST", `/v1/configs/${key}/-/rollback`, { json: { to: 1 } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ version: 1 });
  });

  it("answers 404 for a version that does not exist", async () => {
    const key = `${freshNamespace()}/app`;
    await publishOk(key, { a: 1 });
    const res = await call("POST", `/v1/configs/${key}/-/rollback`, { json: { to: 9 } });
    expect(res.status).toBe(404);
  });

  it.each([
    ["a missing to", {}],
    ["a string version", { to: "1" }],
    ["version 0", { to: 0 }],
    ["a fraction", { to: 1.5 }],
    ["an unknown member", { to: 1, force: true }],
    ["an array", [1]],
  ])("answers 400 for %s", async (_, json) => {
    const key = `${freshNamespace()}/app`;
    await publishOk(key, { a: 1 });
    const res = await call("POST", `/v1/configs/${key}/-/rollback`, { json });
    expect(res.status).toBe(400);
    expect((await problemOf(res)).code).toBe("invalid_request");
  });

  it("answers 415 for a non-JSON body and 405 for POST on the config itself", async () => {
    const key = `${freshNamespace()}/app`;
    await publishOk(key, { a: 1 });
    const res = await call("POST", `/v1/configs/${key}/-/rollback`, {
      body: "to=1",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    expect(res.status).toBe(415);
    const post = await call("POST", `/v1/configs/${key}`, { json: { to: 1 } });
    expect(post.status).toBe(405);
    expect(post.headers.get("Allow")).toContain("PUT");
  });

  it("answers 412 when If-Match does not name the current version", async () => {
    const key = `${freshNamespace()}/app`;
    const v1 = await publishOk(key, { a: 1 });
    await publishOk(key, { a: 2 });
    const res = await call("POST", `/v1/configs/${key}/-/rollback`, {
      json: { to: 1 },
      headers: { "If-Match": v1.etag },
    });
    expect(res.status).toBe(412);
  });

  it("answers 403 for a publish token of another namespace", async () => {
    const ns = freshNamespace();
    await publishOk(`${ns}/app`, { a: 1 });
    await publishOk(`${ns}/app`, { a: 2 });
    const res = await call("POST", `/v1/configs/${ns}/app/-/rollback`, {
      json: { to: 1 },
      token: await adminToken("publish:someone-else"),
    });
    expect(res.status).toBe(403);
  });
});
