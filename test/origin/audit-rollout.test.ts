/**
 * The audit log of safe deployment (GET /v1/audit): rollouts and schema changes are recorded with
 * who, what, when, from/to version and message, and the log filters by key, time and page.
 */
import { describe, expect, it } from "vitest";
import { auditOf, finish, patchRollout, startRollout } from "./rollout-support";
import { adminToken, call, freshNamespace, publishOk } from "./support/origin";

describe("GET /v1/audit for rollouts and schemas", () => {
  it("records the whole life of two rollouts, in order, with actors, versions and messages", async () => {
    const ns = freshNamespace("au");
    const key = `${ns}/svc/flags`;
    const alice = await adminToken("admin", { sub: "alice" });
    const bob = await adminToken(`publish:${ns}`, { sub: "bob" });
    await call("PUT", `/v1/schemas/${key}`, { token: alice, json: { type: "object" } });
    await publishOk(key, { v: 1 }, { token: alice });
    await startRollout(
      key,
      { v: 2 },
      "linear; start=5; step=5; every=600",
      { "Config-Message": "canary" },
      bob,
    );
    await patchRollout(key, { percent: 40 }, bob);
    await finish(key, "abort", { token: alice, message: "errors up" });
    await startRollout(key, { v: 4 }, "25", {}, bob);
    await finish(key, "complete", { token: bob });
    await call("DELETE", `/v1/schemas/${key}`, { token: alice });

    const { entries } = await auditOf(`namespace=${ns}`);
    expect(entries.map((e) => [e.action, e.actor, e.fromVersion, e.toVersion, e.message])).toEqual([
      ["schema_set", "alice", null, null, null],
      ["publish", "alice", null, 1, null],
      ["rollout_start", "bob", 1, 2, "canary"],
      ["rollout_update", "bob", 1, 2, null],
      ["rollout_abort", "alice", 2, 3, "errors up"],
      ["rollout_start", "bob", 3, 4, null],
      ["rollout_complete", "bob", 3, 4, null],
      ["schema_delete", "alice", null, null, null],
    ]);
    const byAction = (action: string) => entries.filter((e) => e.action === action);
    expect(byAction("rollout_start")[0]?.detail).toEqual({
      mode: "linear",
      percent: 5,
      start: 5,
      step: 5,
      everySeconds: 600,
    });
    expect(byAction("rollout_update")[0]?.detail).toEqual({
      mode: { from: "linear", to: "fixed" },
      percent: { from: 5, to: 40 },
    });
    expect(byAction("rollout_abort")[0]?.detail).toEqual({ stable: 1, candidate: 2, share: 40 });
    expect(byAction("rollout_complete")[0]?.detail).toEqual({ share: 25 });
    for (const entry of byAction("rollout_start")) expect(entry.digest).toMatch(/^sha-256=:/);
  });

  it("filters one key's entries and pages through them with limit and the cursor", async () => {
    const ns = freshNamespace("au");
    const key = `${ns}/svc/flags`;
    await publishOk(`${ns}/svc/other`, { x: 1 });
    await publishOk(key, { v: 1 });
    await startRollout(key, { v: 2 }, "10");
    await patchRollout(key, { percent: 20 });
    await finish(key, "complete");
    const first = await auditOf(`key=${key}&limit=2`);
    expect(first.entries.map((e) => e.action)).toEqual(["publish", "rollout_start"]);
    expect(first.next).not.toBeNull();
    const second = await auditOf(`key=${key}&limit=2&cursor=${first.next}`);
    expect(second.entries.map((e) => e.action)).toEqual(["rollout_update", "rollout_complete"]);
    for (const entry of [...first.entries, ...second.entries]) expect(entry.key).toBe(key);
  });

  it("starts at `since`", async () => {
    const ns = freshNamespace("au");
    const key = `${ns}/svc/flags`;
    await publishOk(key, { v: 1 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const since = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await startRollout(key, { v: 2 }, "10");
    const { entries } = await auditOf(`namespace=${ns}&since=${since}`);
    expect(entries.map((e) => e.action)).toEqual(["rollout_start"]);
  });

  it("does not record refused changes: a 409 publish, a lowered share, a 422 schema", async () => {
    const ns = freshNamespace("au");
    const key = `${ns}/svc/flags`;
    await publishOk(key, { v: 1 });
    await startRollout(key, { v: 2 }, "50");
    expect((await call("PUT", `/v1/configs/${key}`, { json: { v: 3 } })).status).toBe(409);
    expect((await patchRollout(key, { percent: 10 })).status).toBe(409);
    expect((await call("PUT", `/v1/schemas/${key}`, { json: { type: "array" } })).status).toBe(422);
    const { entries } = await auditOf(`key=${key}`);
    expect(entries.map((e) => e.action)).toEqual(["publish", "rollout_start"]);
  });
});
