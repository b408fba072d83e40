/**
 * Four-eyes change requests on the origin, inside workerd with the real Durable Object, KV and
 * edge: with `approval: required` a publish is held (202, nothing published anywhere), a second
 * admin's approval publishes exactly the held bytes, the author cannot approve, a stale If-Match
 * fails the request, and expiry follows the object's clock.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  AUTHOR,
  actionsOf,
  approve,
  edgeRead,
  gatedNamespace,
  heldOf,
  REVIEWER,
  reject,
  requestOf,
  tokenOf,
  turnOn,
} from "./approvals-support";
import { call, freshNamespace, problemOf, publish, publishOk, storeOf } from "./support/origin";

const originRead = (key: string) => call("GET", `/v1/configs/${key}`);

describe("approval: required", { timeout: 20_000 }, () => {
  it("holds a publish: 202 with the request, and the key keeps its old version everywhere", async () => {
    const ns = freshNamespace();
    const key = `${ns}/app/flags`;
    await call("PUT", `/v1/namespaces/${ns}`, { json: { visibility: "public" } });
    await publishOk(key, { v: 1 });
    expect((await edgeRead(key)).headers.get("Config-Version")).toBe("1");
    await turnOn(ns);
    const held = await heldOf(
      await publish(key, '{"v": 2}', {
        token: await tokenOf(AUTHOR),
        headers: { "Config-Message": "bump" },
      }),
    );
    expect(held).toMatchObject({ namespace: ns, state: "pending", kind: "publish", key, author: AUTHOR });
    expect(held.digest).toMatch(/^sha-256=:/);
    expect((await requestOf(ns, held.id)).diff).toContainEqual({ op: "replace", path: "/v", value: 2 });
    expect((await originRead(key)).headers.get("Config-Version")).toBe("1");
    const edge = await edgeRead(key);
    expect([edge.headers.get("Config-Version"), await edge.text()]).toEqual(["1", '{"v":1}']);
    const history = (await (await call("GET", `/v1/configs/${key}/-/versions`)).json()) as {
      versions: unknown[];
    };
    expect(history.versions).toHaveLength(1);
    expect((await actionsOf(ns)).map((e) => e.action)).toContain("change_request_created");
  });

  it("publishes the held bytes exactly when another admin approves, naming both in the audit", async () => {
    const ns = await gatedNamespace({ visibility: "public" });
    const key = `${ns}/app/flags`;
    const held = await heldOf(await publish(key, '{ "spaced":  true }', { token: await tokenOf(AUTHOR) }));
    const shown = await requestOf(ns, held.id);
    // Nothing live: the reviewer sees the whole document, as one add at the root.
    expect(shown.diff).toEqual([{ op: "add", path: "", value: { spaced: true } }]);
    expect(shown.changeRequest).toMatchObject({ baseEtag: null });
    const res = await approve(ns, held.id, REVIEWER, { message: "looks right" });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { version: number; changeRequest: { state: string } };
    expect(body).toMatchObject({ key, version: 1, changeRequest: { state: "approved", resultVersion: 1 } });
    expect(await (await edgeRead(key)).text()).toBe('{ "spaced":  true }');
    const entries = await actionsOf(ns);
    expect(entries.find((e) => e.action === "publish")).toMatchObject({
      actor: AUTHOR,
      detail: { changeRequest: held.id, approvedBy: REVIEWER },
    });
    expect(entries.find((e) => e.action === "change_request_approved")).toMatchObject({ actor: REVIEWER });
    const after = await requestOf(ns, held.id);
    expect(after.changeRequest).toMatchObject({
      state: "approved",
      decidedBy: REVIEWER,
      reason: "looks right",
    });
  });

  it("refuses an approval by the author with 403 and leaves the request pending", async () => {
    const ns = await gatedNamespace();
    const held = await heldOf(await publish(`${ns}/app/x`, { a: 1 }, { token: await tokenOf(AUTHOR) }));
    const res = await approve(ns, held.id, AUTHOR);
    expect(res.status).toBe(403);
    const problem = await problemOf(res);
    expect(problem.detail).toContain("another admin");
    expect(problem).toMatchObject({
      code: "own_approval",
      title: "The author of a change request cannot approve it",
    });
    expect((await requestOf(ns, held.id)).changeRequest.state).toBe("pending");
    expect((await originRead(`${ns}/app/x`)).status).toBe(404);
  });

  it("needs publish scope to approve: a read token gets 403", async () => {
    const ns = await gatedNamespace();
    const held = await heldOf(await publish(`${ns}/app/x`, { a: 1 }, { token: await tokenOf(AUTHOR) }));
    const token = await tokenOf(REVIEWER, `read:${ns}`);
    const res = await call("POST", `/v1/change-requests/${ns}/${held.id}/approve`, { token });
    expect(res.status).toBe(403);
    const other = await tokenOf(REVIEWER, `publish:${ns}`);
    expect(
      (await call("POST", `/v1/change-requests/${ns}/${held.id}/approve`, { token: other })).status,
    ).toBe(201);
  });

  it("rejects (the author may withdraw), and a decided request cannot be decided again (409)", async () => {
    const ns = await gatedNamespace();
    const held = await heldOf(await publish(`${ns}/app/x`, { a: 1 }, { token: await tokenOf(AUTHOR) }));
    const res = await reject(ns, held.id, "wrong namespace", AUTHOR);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      changeRequest: { state: "rejected", reason: "wrong namespace" },
    });
    expect((await approve(ns, held.id)).status).toBe(409);
    expect((await reject(ns, held.id, "again")).status).toBe(409);
    expect((await originRead(`${ns}/app/x`)).status).toBe(404);
    expect((await actionsOf(ns)).map((e) => e.action)).toContain("change_request_rejected");
  });

  it("fails the request with 412 when its If-Match no longer holds at approval", async () => {
    const ns = freshNamespace();
    const key = `${ns}/app/x`;
    const first = await publishOk(key, { v: 1 });
    await turnOn(ns);
    const held = await heldOf(
      await publish(key, { v: 2 }, { token: await tokenOf(AUTHOR), headers: { "If-Match": first.etag } }),
    );
    expect(held.ifMatch).toBe(first.etag);
    // Someone else's change lands first (approved by the reviewer).
    const other = await heldOf(await publish(key, { v: 3 }, { token: await tokenOf("carol") }));
    expect((await approve(ns, other.id)).status).toBe(201);
    const res = await approve(ns, held.id);
    expect(res.status).toBe(412);
    expect((await problemOf(res)).detail).toContain("now failed");
    const failed = (await requestOf(ns, held.id)).changeRequest;
    expect(failed).toMatchObject({ state: "failed" });
    expect(failed.reason).toContain("If-Match failed");
    expect((await originRead(key)).headers.get("Config-Version")).toBe("2");
    expect((await actionsOf(ns)).map((e) => e.action)).toContain("change_request_failed");
  });

  it("refuses now, with the direct write's error and nothing stored, a write that would fail now", async () => {
    const ns = await gatedNamespace();
    const stale = await publish(`${ns}/app/x`, { a: 1 }, { headers: { "If-Match": '"1-nope"' } });
    expect(stale.status).toBe(412);
    const bad = await publish(`${ns}/app/x`, '{"a": 1,}');
    expect(bad.status).toBe(400);
    const list = (await (await call("GET", `/v1/change-requests/${ns}?state=all`)).json()) as {
      changeRequests: unknown[];
    };
    expect(list.changeRequests).toHaveLength(0);
  });

  it("reports a request past its ttl as expired and answers 410 to its approval", async () => {
    const ns = await gatedNamespace({ approvalTtl: 300 });
    const held = await heldOf(await publish(`${ns}/app/x`, { a: 1 }, { token: await tokenOf(AUTHOR) }));
    expect(Date.parse(held.expiresAt) - Date.parse(held.createdAt)).toBe(300_000);
    await runInDurableObject(storeOf(ns), (instance) => {
      instance.clock = () => Date.now() + 301_000;
    });
    expect((await requestOf(ns, held.id)).changeRequest.state).toBe("expired");
    const pending = (await (await call("GET", `/v1/change-requests/${ns}`)).json()) as {
      changeRequests: unknown[];
    };
    expect(pending.changeRequests).toHaveLength(0);
    const res = await approve(ns, held.id);
    expect(res.status).toBe(410);
    expect((await originRead(`${ns}/app/x`)).status).toBe(404);
    expect((await actionsOf(ns)).map((e) => e.action)).toContain("change_request_expired");
  });

  it("lists newest first by state, with a cursor", async () => {
    const ns = await gatedNamespace();
    const token = await tokenOf(AUTHOR);
    const ids: number[] = [];
    for (const n of [1, 2, 3])
      ids.push((await heldOf(await publish(`${ns}/app/k${n}`, { n }, { token }))).id);
    expect((await reject(ns, ids[0] ?? 0, "no")).status).toBe(200);
    const page = (await (await call("GET", `/v1/change-requests/${ns}?limit=1`)).json()) as {
      changeRequests: { id: number }[];
      next: string | null;
    };
    expect(page.changeRequests.map((r) => r.id)).toEqual([ids[2]]);
    const next = (await (
      await call("GET", `/v1/change-requests/${ns}?limit=1&cursor=${page.next ?? ""}`)
    ).json()) as { changeRequests: { id: number }[]; next: string | null };
    expect(next.changeRequests.map((r) => r.id)).toEqual([ids[1]]);
    expect(next.next).toBeNull();
    const rejected = (await (await call("GET", `/v1/change-requests/${ns}?state=rejected`)).json()) as {
      changeRequests: { id: number }[];
    };
    expect(rejected.changeRequests.map((r) => r.id)).toEqual([ids[0]]);
  });

  it("answers 404 for an unknown id, 400 for a bad state, id or body", async () => {
    const ns = await gatedNamespace();
    expect((await call("GET", `/v1/change-requests/${ns}/999`)).status).toBe(404);
    expect((await approve(ns, 999)).status).toBe(404);
    expect((await call("GET", `/v1/change-requests/${ns}?state=open`)).status).toBe(400);
    expect((await call("GET", `/v1/change-requests/${ns}/abc`)).status).toBe(400);
    const held = await heldOf(await publish(`${ns}/app/x`, { a: 1 }, { token: await tokenOf(AUTHOR) }));
    const noReason = await call("POST", `/v1/change-requests/${ns}/${held.id}/reject`, { json: {} });
    expect(noReason.status).toBe(400);
    const extra = await approve(ns, held.id, REVIEWER, { message: "ok", force: true });
    expect(extra.status).toBe(400);
    expect((await requestOf(ns, held.id)).changeRequest.state).toBe("pending");
  });

  it("audits turning approval off, and writes take effect directly again", async () => {
    const ns = await gatedNamespace();
    const off = await call("PUT", `/v1/namespaces/${ns}`, { json: { approval: "none" } });
    expect(await off.json()).toMatchObject({ approval: "none", approvalTtl: 86400 });
    const entry = (await actionsOf(ns)).filter((e) => e.action === "namespace").at(-1);
    expect(entry?.detail).toMatchObject({ approval: { from: "required", to: "none" } });
    expect((await publish(`${ns}/app/x`, { a: 1 })).status).toBe(201);
    const refused = await call("PUT", `/v1/namespaces/${ns}`, {
      token: await tokenOf(AUTHOR, `publish:${ns}`),
      json: { approval: "required" },
    });
    expect(refused.status).toBe(403);
    expect((await call("PUT", `/v1/namespaces/${ns}`, { json: { approvalTtl: 60 } })).status).toBe(400);
  });
});
