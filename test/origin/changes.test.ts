/**
 * `POST /v1/changes` and `PUT/GET /v1/bundles/{namespace}/{name}` on the origin, inside workerd
 * with the real Durable Object and KV: all or nothing, one audit entry, the bundle's manifest
 * version moving in the same commit as its members, and the manifest written to KV signed under
 * its pseudo-key.
 */
import { describe, expect, it } from "vitest";
import { decodeSnapshot, type HeadRecord, type Jwks, kvKeys, verifySnapshot } from "../../core";
import { adminToken, call, freshNamespace, originEnv, problemOf, publishOk } from "./support/origin";

function changes(body: unknown, token?: string) {
  return call("POST", "/v1/changes", token === undefined ? { json: body } : { json: body, token });
}

function defineBundle(namespace: string, name: string, keys: string[]) {
  return call("PUT", `/v1/bundles/${namespace}/${name}`, { json: { keys } });
}

async function current(key: string): Promise<{ status: number; text: string; version: string | null }> {
  const res = await call("GET", `/v1/configs/${key}`);
  return { status: res.status, text: await res.text(), version: res.headers.get("Config-Version") };
}

async function auditOf(
  namespace: string,
): Promise<{ action: string; message: string | null; detail: unknown }[]> {
  const res = await call("GET", `/v1/audit?namespace=${namespace}`);
  return ((await res.json()) as { entries: { action: string; message: string | null; detail: unknown }[] })
    .entries;
}

async function kvHead(key: string): Promise<HeadRecord | null> {
  const text = await originEnv.CONFIGS.get(kvKeys.head(key), "text");
  return text === null ? null : (JSON.parse(text) as HeadRecord);
}

// The file's first request starts the origin and its Durable Object, seconds on a loaded machine.
describe("POST /v1/changes", { timeout: 20_000 }, () => {
  it("applies three keys in one step with one audit entry, and answers 201 with each new version", async () => {
    const ns = freshNamespace();
    await publishOk(`${ns}/app/a`, { a: 0 });
    await publishOk(`${ns}/app/c`, { c: 0 });
    const res = await changes({
      message: "release 42",
      changes: [
        { key: `${ns}/app/a`, content: { a: 1 } },
        { key: `${ns}/app/b`, content: { b: 1 } },
        { key: `${ns}/app/c`, delete: true },
      ],
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as {
      applied: boolean;
      changes: { key: string; outcome: string; version: number }[];
    };
    expect(body).toMatchObject({ namespace: ns, applied: true, distribution: "complete" });
    expect(body.changes).toMatchObject([
      { key: `${ns}/app/a`, outcome: "published", version: 2 },
      { key: `${ns}/app/b`, outcome: "published", version: 1 },
      { key: `${ns}/app/c`, outcome: "deleted", version: 1 },
    ]);
    expect(await current(`${ns}/app/a`)).toMatchObject({ status: 200, text: '{"a":1}', version: "2" });
    expect(await current(`${ns}/app/b`)).toMatchObject({ status: 200, text: '{"b":1}', version: "1" });
    expect((await current(`${ns}/app/c`)).status).toBe(404);
    const sets = (await auditOf(ns)).filter((e) => e.action === "change_set");
    expect(sets).toHaveLength(1);
    expect(sets[0]).toMatchObject({ message: "release 42", detail: { changes: 3 } });
    expect((await kvHead(`${ns}/app/b`))?.version).toBe(1);
    expect((await kvHead(`${ns}/app/c`))?.deleted).toBe(true);
  });

  it("applies nothing when one member breaks its key's schema, and the problem points at that member", async () => {
    const ns = freshNamespace();
    await publishOk(`${ns}/app/a`, { a: 0 });
    const schema = { type: "object", properties: { n: { type: "integer" } }, required: ["n"] };
    const set = await call("PUT", `/v1/schemas/${ns}/app/c`, { json: schema });
    expect(set.status).toBeLessThan(300);
    const res = await changes({
      changes: [
        { key: `${ns}/app/a`, content: { a: 1 } },
        { key: `${ns}/app/b`, content: { b: 1 } },
        { key: `${ns}/app/c`, content: { n: "not a number" } },
      ],
    });
    expect(res.status).toBe(422);
    const problem = await problemOf(res);
    expect(problem.code).toBe("schema_violation");
    expect(problem.errors?.[0]).toMatchObject({ pointer: "/changes/2/content" });
    expect(await current(`${ns}/app/a`)).toMatchObject({ text: '{"a":0}', version: "1" });
    expect((await current(`${ns}/app/b`)).status).toBe(404);
    expect((await auditOf(ns)).some((e) => e.action === "change_set")).toBe(false);
  });

  it("refuses keys of two namespaces, a key named twice, and a member with neither content nor delete", async () => {
    const ns = freshNamespace();
    const other = freshNamespace();
    const cases: [unknown, number, string][] = [
      [
        {
          changes: [
            { key: `${ns}/a`, content: 1 },
            { key: `${other}/a`, content: 1 },
          ],
        },
        400,
        "/changes/1/key",
      ],
      [
        {
          changes: [
            { key: `${ns}/a`, content: 1 },
            { key: `${ns}/a`, content: 2 },
          ],
        },
        400,
        "/changes/1/key",
      ],
      [{ changes: [{ key: `${ns}/a`, content: 1 }, { key: `${ns}/b` }] }, 400, "/changes/1"],
      [
        {
          changes: [
            { key: `${ns}/a`, content: 1 },
            { key: "Bad/Key", content: 1 },
          ],
        },
        400,
        "/changes/1/key",
      ],
      [
        {
          changes: [
            { key: `${ns}/a`, content: 1 },
            { key: `${ns}/gone`, delete: true },
          ],
        },
        404,
        "/changes/1/key",
      ],
    ];
    for (const [body, status, pointer] of cases) {
      const res = await changes(body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect((await problemOf(res)).errors?.[0]?.pointer).toBe(pointer);
    }
    expect((await current(`${ns}/a`)).status).toBe(404);
  });

  it("needs publish scope on the set's namespace", async () => {
    const ns = freshNamespace();
    const token = await adminToken(`publish:${freshNamespace()}`);
    const res = await changes({ changes: [{ key: `${ns}/a`, content: 1 }] }, token);
    expect(res.status).toBe(403);
    expect((await current(`${ns}/a`)).status).toBe(404);
  });

  it("answers 200 and writes nothing when every member is already as asked", async () => {
    const ns = freshNamespace();
    await changes({ changes: [{ key: `${ns}/a`, content: { x: 1 } }] });
    const again = await changes({ changes: [{ key: `${ns}/a`, content: { x: 1 } }] });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({
      applied: false,
      changes: [{ outcome: "unchanged", version: 1 }],
    });
    expect((await auditOf(ns)).filter((e) => e.action === "change_set")).toHaveLength(1);
  });
});

describe("PUT /v1/bundles/{namespace}/{name}", () => {
  it("refuses a bundle naming a key with no live version with 422, pointing at it", async () => {
    const ns = freshNamespace();
    await publishOk(`${ns}/app/a`, { a: 1 });
    const res = await defineBundle(ns, "web", [`${ns}/app/a`, `${ns}/app/missing`]);
    expect(res.status).toBe(422);
    const problem = await problemOf(res);
    expect(problem.code).toBe("unknown_member");
    expect(problem.detail).toContain(`${ns}/app/missing`);
    expect((await call("GET", `/v1/bundles/${ns}/web`)).status).toBe(404);
  });

  it("refuses a key of another namespace and a key named twice with 400", async () => {
    const ns = freshNamespace();
    await publishOk(`${ns}/app/a`, { a: 1 });
    const other = await defineBundle(ns, "web", [`${ns}/app/a`, `${freshNamespace()}/app/a`]);
    expect(other.status).toBe(400);
    expect((await problemOf(other)).errors?.[0]?.pointer).toBe("/keys/1");
    const twice = await defineBundle(ns, "web", [`${ns}/app/a`, `${ns}/app/a`]);
    expect(twice.status).toBe(400);
    expect((await defineBundle(ns, "Bad_Name", [`${ns}/app/a`])).status).toBe(400);
  });

  it("bumps the bundle's version in the same commit as a change set of its members, once per set", async () => {
    const ns = freshNamespace();
    const keys = [`${ns}/app/a`, `${ns}/app/b`, `${ns}/app/c`];
    for (const key of keys) await publishOk(key, { v: 1 });
    const defined = await defineBundle(ns, "web", keys);
    expect(defined.status).toBe(200);
    expect(await defined.json()).toMatchObject({ version: 1, distribution: "complete" });
    const set = await changes({ changes: keys.map((key) => ({ key, content: { v: 2 } })) });
    expect(set.status).toBe(201);
    const view = (await (await call("GET", `/v1/bundles/${ns}/web`)).json()) as {
      version: number;
      members: Record<string, { version: number }>;
    };
    expect(view.version).toBe(2);
    expect(Object.values(view.members).map((m) => m.version)).toEqual([2, 2, 2]);
    // A single publish of one member is a change too; one of a key outside the bundle is not.
    await publishOk(`${ns}/app/a`, { v: 3 });
    await publishOk(`${ns}/other`, { v: 1 });
    const after = (await (await call("GET", `/v1/bundles/${ns}/web`)).json()) as { version: number };
    expect(after.version).toBe(3);
    // Redefining with the same keys changes nothing.
    expect(await (await defineBundle(ns, "web", keys)).json()).toMatchObject({ version: 3 });
  });

  it("writes the manifest to KV as a snapshot signed under bundle:{namespace}/{name}", async () => {
    const ns = freshNamespace();
    const a = await publishOk(`${ns}/app/a`, { a: 1 });
    await defineBundle(ns, "web", [`${ns}/app/a`]);
    const key = `bundle:${ns}/web`;
    const head = await kvHead(key);
    expect(head).toMatchObject({ key, version: 1, deleted: false, rollout: null });
    const raw = await originEnv.CONFIGS.get(kvKeys.snapshot(key, 1), "arrayBuffer");
    expect(raw).not.toBeNull();
    const snapshot = decodeSnapshot(raw as ArrayBuffer);
    expect(JSON.parse(new TextDecoder().decode(snapshot.body))).toEqual({
      bundle: `${ns}/web`,
      version: 1,
      members: { [`${ns}/app/a`]: { version: 1, digest: a.digest } },
    });
    expect(snapshot.meta.etag).toBe(head?.etag);
    const jwks = JSON.parse(originEnv.PUBLIC_JWKS) as Jwks;
    const verified = await verifySnapshot(snapshot.meta.signature, snapshot.body, jwks);
    expect(verified).toMatchObject({ ok: true, header: { key, ver: 1 } });
  });

  it("refuses to delete a key a bundle names (409), alone or in a change set", async () => {
    const ns = freshNamespace();
    await publishOk(`${ns}/app/a`, { a: 1 });
    await defineBundle(ns, "web", [`${ns}/app/a`]);
    expect((await call("DELETE", `/v1/configs/${ns}/app/a`)).status).toBe(409);
    const set = await changes({ changes: [{ key: `${ns}/app/a`, delete: true }] });
    expect(set.status).toBe(409);
    expect((await problemOf(set)).errors?.[0]?.pointer).toBe("/changes/0/key");
  });
});
