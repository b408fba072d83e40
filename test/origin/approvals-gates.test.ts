/**
 * What four-eyes holds and what it never does: rollbacks, deletes, change sets and rollout starts
 * become change requests (and apply on approval), while stopping — rollout abort, redaction —
 * stays immediate, inside workerd with the real Durable Object.
 */
import { describe, expect, it } from "vitest";
import {
  AUTHOR,
  actionsOf,
  approve,
  heldOf,
  REVIEWER,
  requestOf,
  tokenOf,
  turnOn,
} from "./approvals-support";
import { call, freshNamespace, publish, publishOk } from "./support/origin";

const versionOf = async (key: string) =>
  (await call("GET", `/v1/configs/${key}`)).headers.get("Config-Version");

describe("what approval: required holds", { timeout: 20_000 }, () => {
  it("holds a rollback and applies it on approval", async () => {
    const ns = freshNamespace();
    const key = `${ns}/app/x`;
    await publishOk(key, { v: 1 });
    await publishOk(key, { v: 2 });
    await turnOn(ns);
    const res = await call("POST", `/v1/configs/${key}/-/rollback`, {
      token: await tokenOf(AUTHOR),
      json: { to: 1 },
    });
    const held = await heldOf(res);
    expect(held).toMatchObject({ kind: "rollback", key });
    expect(await versionOf(key)).toBe("2");
    const done = await approve(ns, held.id);
    expect(done.status).toBe(201);
    expect(await done.json()).toMatchObject({
      version: 3,
      changeRequest: { state: "approved", resultVersion: 3 },
    });
    expect(await (await call("GET", `/v1/configs/${key}`)).text()).toBe('{"v":1}');
  });

  it("refuses at once a rollback to a version that does not exist (404), holding nothing", async () => {
    const ns = freshNamespace();
    await publishOk(`${ns}/app/x`, { v: 1 });
    await turnOn(ns);
    const res = await call("POST", `/v1/configs/${ns}/app/x/-/rollback`, { json: { to: 9 } });
    expect(res.status).toBe(404);
    const all = (await (await call("GET", `/v1/change-requests/${ns}?state=all`)).json()) as {
      changeRequests: unknown[];
    };
    expect(all.changeRequests).toHaveLength(0);
  });

  it("holds a delete and applies it on approval", async () => {
    const ns = freshNamespace();
    const key = `${ns}/app/x`;
    await publishOk(key, { v: 1 });
    await turnOn(ns);
    const held = await heldOf(await call("DELETE", `/v1/configs/${key}`, { token: await tokenOf(AUTHOR) }));
    expect(held.kind).toBe("delete");
    expect(await versionOf(key)).toBe("1");
    const done = await approve(ns, held.id);
    expect(done.status).toBe(200);
    expect(await done.json()).toMatchObject({
      deleted: true,
      version: 1,
      changeRequest: { state: "approved" },
    });
    expect((await call("GET", `/v1/configs/${key}`)).status).toBe(404);
  });

  it("holds a change set, so POST /v1/changes is no way around the approval", async () => {
    const ns = freshNamespace();
    await publishOk(`${ns}/app/a`, { a: 0 });
    await turnOn(ns);
    const body = {
      message: "release",
      changes: [
        { key: `${ns}/app/a`, content: { a: 1 } },
        { key: `${ns}/app/b`, content: { b: 1 } },
      ],
    };
    const held = await heldOf(
      await call("POST", "/v1/changes", { token: await tokenOf(AUTHOR), json: body }),
    );
    expect(held).toMatchObject({ kind: "changes", key: null, keys: [`${ns}/app/a`, `${ns}/app/b`] });
    // The reviewer sees every member's change against what its key holds now.
    expect((await requestOf(ns, held.id)).members).toEqual([
      {
        key: `${ns}/app/a`,
        delete: false,
        diff: [
          { op: "test", path: "/a", value: 0 },
          { op: "replace", path: "/a", value: 1 },
        ],
      },
      { key: `${ns}/app/b`, delete: false, diff: [{ op: "add", path: "", value: { b: 1 } }] },
    ]);
    expect(await versionOf(`${ns}/app/a`)).toBe("1");
    expect((await call("GET", `/v1/configs/${ns}/app/b`)).status).toBe(404);
    const done = await approve(ns, held.id);
    expect(done.status).toBe(201);
    expect(await done.json()).toMatchObject({ applied: true, changeRequest: { state: "approved" } });
    expect(await (await call("GET", `/v1/configs/${ns}/app/b`)).text()).toBe('{"b":1}');
    const set = (await actionsOf(ns)).find((e) => e.action === "change_set");
    expect(set).toMatchObject({ actor: AUTHOR, detail: { approvedBy: REVIEWER } });
  });

  it("keeps a change set's held bytes whole past one SQLite chunk (1 MiB) and applies them exactly", async () => {
    const ns = freshNamespace();
    await turnOn(ns);
    const big = (n: number) => ({ blob: String(n).repeat(700_000) });
    const body = { changes: [1, 2].map((n) => ({ key: `${ns}/big/k${n}`, content: big(n) })) };
    const held = await heldOf(
      await call("POST", "/v1/changes", { token: await tokenOf(AUTHOR), json: body }),
    );
    expect(held.size).toBeGreaterThan(1024 * 1024);
    expect((await approve(ns, held.id)).status).toBe(201);
    for (const n of [1, 2]) {
      expect(await (await call("GET", `/v1/configs/${ns}/big/k${n}`)).text()).toBe(JSON.stringify(big(n)));
    }
  });

  it("holds a rollout start; approved, the rollout starts then", async () => {
    const ns = freshNamespace();
    const key = `${ns}/app/x`;
    await publishOk(key, { v: 1 });
    await turnOn(ns);
    const held = await heldOf(
      await publish(key, { v: 2 }, { token: await tokenOf(AUTHOR), headers: { "Config-Rollout": "30" } }),
    );
    expect((await requestOf(ns, held.id)).changeRequest).toMatchObject({ kind: "publish" });
    expect(await (await call("GET", `/v1/configs/${key}/-/rollout`)).json()).toMatchObject({ state: "none" });
    const done = await approve(ns, held.id);
    expect(done.status).toBe(201);
    expect(await done.json()).toMatchObject({ version: 2, rollout: { state: "running", percent: 30 } });
  });

  it("keeps a held rollout start's ring and gates: approved, it starts in that ring only", async () => {
    const ns = freshNamespace();
    const key = `${ns}/app/ring`;
    await publishOk(key, { v: 1 });
    await turnOn(ns);
    const held = await heldOf(
      await publish(
        key,
        { v: 2 },
        {
          token: await tokenOf(AUTHOR),
          headers: { "Config-Rollout": '100; colos="AMS"; continents="OC"; max-rejected=10; min-clients=3' },
        },
      ),
    );
    const done = await approve(ns, held.id);
    expect(done.status).toBe(201);
    const rollout = await (await call("GET", `/v1/configs/${key}/-/rollout`)).json();
    expect(rollout).toMatchObject({
      state: "running",
      percent: 100,
      ring: { colos: ["AMS"], continents: ["OC"] },
      gates: { maxRejected: 10, minClients: 3 },
    });
  });

  it("refuses (409) to require approval while a rollout runs, whose candidate nobody reviewed", async () => {
    const ns = freshNamespace();
    const key = `${ns}/app/canary`;
    await publishOk(key, { v: 1 });
    expect((await publish(key, { v: 2 }, { headers: { "Config-Rollout": "1" } })).status).toBe(201);
    const refused = await call("PUT", `/v1/namespaces/${ns}`, { json: { approval: "required" } });
    expect(refused.status, await refused.clone().text()).toBe(409);
    expect(refused.headers.get("Content-Type")).toContain("application/problem+json");
    expect(((await refused.json()) as { detail: string }).detail).toContain(key);
    const settings = await (await call("GET", `/v1/namespaces/${ns}`)).json();
    expect(settings).toMatchObject({ approval: "none" });
    expect((await call("POST", `/v1/configs/${key}/-/rollout/abort`)).status).toBe(200);
    await turnOn(ns);
  });

  it("never holds a rollout abort or a redaction: stopping stays immediate", async () => {
    const ns = freshNamespace();
    const key = `${ns}/app/x`;
    await publishOk(key, { v: 1 });
    await publishOk(key, { secret: "leaked" });
    await publishOk(key, { v: 3 });
    await turnOn(ns);
    // The rollout starts through a change request, as every rollout start there does.
    const start = await heldOf(
      await publish(key, { v: 4 }, { token: await tokenOf(AUTHOR), headers: { "Config-Rollout": "30" } }),
    );
    expect((await approve(ns, start.id)).status).toBe(201);
    const abort = await call("POST", `/v1/configs/${key}/-/rollout/abort`, { token: await tokenOf(AUTHOR) });
    expect(abort.status).toBe(200);
    expect(await abort.json()).toMatchObject({ state: "aborted" });
    const redact = await call("POST", `/v1/configs/${key}/-/versions/2/redact`, {
      token: await tokenOf(AUTHOR),
    });
    expect(redact.status).toBe(200);
    expect(await redact.json()).toMatchObject({ redacted: true });
  });

  it("refuses (412) to approve a request whose key moved on since it was made: approving must not undo a change made meanwhile", async () => {
    const ns = freshNamespace();
    const key = `${ns}/app/x`;
    await publishOk(key, { rps: 100, timeout: 1 });
    const base = (await call("GET", `/v1/configs/${key}`)).headers.get("ETag");
    await turnOn(ns);
    const rps = await heldOf(await publish(key, { rps: 250, timeout: 1 }, { token: await tokenOf(AUTHOR) }));
    const timeout = await heldOf(
      await publish(key, { rps: 100, timeout: 5 }, { token: await tokenOf("carol") }),
    );
    expect((await requestOf(ns, rps.id)).changeRequest).toMatchObject({ baseEtag: base, ifMatch: null });
    expect((await approve(ns, timeout.id)).status).toBe(201);
    const stale = await approve(ns, rps.id);
    expect(stale.status, await stale.clone().text()).toBe(412);
    expect(((await stale.json()) as { detail: string }).detail).toContain(
      "changed since this request was made",
    );
    expect((await requestOf(ns, rps.id)).changeRequest).toMatchObject({ state: "failed" });
    // The change made meanwhile stands.
    expect(await (await call("GET", `/v1/configs/${key}`)).json()).toEqual({ rps: 100, timeout: 5 });
    expect(await versionOf(key)).toBe("2");
  });

  it("approves a publish whose bytes became current meanwhile as 200, with nothing new", async () => {
    const ns = freshNamespace();
    const key = `${ns}/app/x`;
    await publishOk(key, { v: 1 });
    await turnOn(ns);
    const first = await heldOf(await publish(key, { v: 2 }, { token: await tokenOf(AUTHOR) }));
    const second = await heldOf(await publish(key, { v: 2 }, { token: await tokenOf("carol") }));
    expect((await approve(ns, first.id)).status).toBe(201);
    const again = await approve(ns, second.id);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({
      version: 2,
      changeRequest: { state: "approved", resultVersion: 2 },
    });
  });
});
