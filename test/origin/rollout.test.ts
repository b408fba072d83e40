/**
 * Staged rollouts through the origin's API (docs/rollouts.md): starting one with Config-Rollout,
 * what reaches KV and the real edge, one rollout per key, PATCH never lowering the share, complete
 * and abort (which never lowers a version number).
 */
import { describe, expect, it } from "vitest";
import { bucketOf, decodeSnapshot, inCohort, kvKeys } from "../../core";
import {
  edgeRead,
  finish,
  headOf,
  makePublic,
  patchRollout,
  type RolloutDocument,
  rolloutOf,
  startRollout,
} from "./rollout-support";
import { adminToken, call, freshNamespace, originEnv, problemOf, publish, publishOk } from "./support/origin";

async function running(doc: unknown = { v: 2 }, rollout = "30") {
  const ns = freshNamespace("ro");
  const key = `${ns}/svc/flags`;
  await makePublic(ns);
  const stable = await publishOk(key, { v: 1 });
  const res = await startRollout(key, doc, rollout, { "Config-Message": "try v2" });
  if (res.status !== 201) throw new Error(`rollout start answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { version: number; etag: string; rollout: RolloutDocument };
  return { ns, key, stable, candidate: body };
}

describe("PUT /v1/configs/{key} with Config-Rollout", () => {
  it("publishes a candidate, keeps the live version, and answers with the running rollout", async () => {
    const { key, stable, candidate } = await running();
    expect(candidate.version).toBe(2);
    expect(candidate.rollout).toMatchObject({
      state: "running",
      mode: "fixed",
      percent: 30,
      share: 30,
      stable: { version: 1 },
      candidate: { version: 2, etag: candidate.etag },
      live: { version: 1, etag: stable.etag },
      startedBy: "tester",
      message: "try v2",
    });
    // The origin's own read is the live (stable) version.
    const current = await call("GET", `/v1/configs/${key}`);
    expect(current.headers.get("Config-Version")).toBe("1");
  });

  it("writes both snapshots to KV, then a head naming the stable version and the rollout", async () => {
    const { key, stable, candidate } = await running();
    for (const version of [1, 2]) {
      const raw = await originEnv.CONFIGS.get(kvKeys.snapshot(key, version), "arrayBuffer");
      expect(decodeSnapshot(raw as ArrayBuffer).meta.version).toBe(version);
    }
    const head = await headOf(key);
    expect(head).toMatchObject({ version: 1, etag: stable.etag, deleted: false });
    expect(head?.rollout).toMatchObject({
      candidate: { version: 2, etag: candidate.etag },
      mode: "fixed",
      percent: 30,
      start: 30,
      step: 0,
      everySeconds: 0,
    });
  });

  it("makes the real edge serve the candidate to the cohort at once", async () => {
    const { key } = await running();
    for (let i = 0; i < 60; i++) {
      const id = `client-${i}`;
      const res = await edgeRead(key, id);
      expect(res.headers.get("Config-Version")).toBe(inCohort(bucketOf(key, id), 30) ? "2" : "1");
    }
    expect((await edgeRead(key)).headers.get("Config-Version")).toBe("1");
  });

  it("starts a linear rollout whose share and full time follow from the header", async () => {
    const { key } = await running({ v: 2 }, "linear; start=10; step=20; every=60");
    const doc = await rolloutOf(key);
    expect(doc).toMatchObject({ mode: "linear", start: 10, step: 20, everySeconds: 60, share: 10 });
    // 10 → 30 → 50 → 70 → 90 → 100: five steps of a minute.
    expect(Date.parse(String(doc.fullAt)) - Date.parse(String(doc.startedAt))).toBe(5 * 60_000);
  });

  it("answers 200 with the candidate when the same start is retried (idempotent)", async () => {
    const { key, candidate } = await running({ v: 2 }, "30");
    const again = await startRollout(key, { v: 2 }, "30");
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ version: 2, etag: candidate.etag });
  });

  it.each([
    ["a plain publish", () => ({ method: "PUT", doc: { v: 3 } as unknown, rollout: null as string | null })],
    ["another rollout", () => ({ method: "PUT", doc: { v: 3 }, rollout: "50" })],
    ["the same bytes with another share", () => ({ method: "PUT", doc: { v: 2 }, rollout: "40" })],
  ])("refuses %s during a rollout with 409, changing nothing", async (_, make) => {
    const { key } = await running();
    const { doc, rollout } = make();
    const res = await publish(key, doc, rollout === null ? {} : { headers: { "Config-Rollout": rollout } });
    expect(res.status).toBe(409);
    expect(await problemOf(res)).toMatchObject({ code: "conflict" });
    expect((await problemOf(await publish(key, { v: 9 }))).detail).toContain("/rollout/abort");
    expect((await headOf(key))?.rollout?.candidate.version).toBe(2);
    const versions = (await (await call("GET", `/v1/configs/${key}/-/versions`)).json()) as {
      versions: unknown[];
    };
    expect(versions.versions).toHaveLength(2);
  });

  it("refuses a rollback and a delete during a rollout with 409", async () => {
    const { key } = await running();
    const rollback = await call("POST", `/v1/configs/${key}/-/rollback`, { json: { to: 1 } });
    expect(rollback.status).toBe(409);
    expect((await call("DELETE", `/v1/configs/${key}`)).status).toBe(409);
    expect((await headOf(key))?.deleted).toBe(false);
  });

  it("refuses a rollout of a key with no live version (409): other clients would have nothing", async () => {
    const key = `${freshNamespace("ro")}/svc/new`;
    const res = await startRollout(key, { v: 1 }, "10");
    expect(res.status).toBe(409);
    expect((await call("GET", `/v1/configs/${key}`)).status).toBe(404);
  });

  it("answers 200 without starting anything when the bytes equal the live version", async () => {
    const key = `${freshNamespace("ro")}/svc/same`;
    await publishOk(key, '{"v":1}');
    const res = await startRollout(key, '{"v":1}', "10");
    expect(res.status).toBe(200);
    expect((await rolloutOf(key)).state).toBe("none");
  });

  it.each(["", "101", "ten", "linear; start=10", "linear; start=10; step=0; every=60", "30; x=1", "12.345"])(
    "answers 400 for Config-Rollout %j and publishes nothing",
    async (header) => {
      const key = `${freshNamespace("ro")}/svc/bad`;
      await publishOk(key, { v: 1 });
      const res = await startRollout(key, { v: 2 }, header);
      expect(res.status).toBe(400);
      expect(await problemOf(res)).toMatchObject({ code: "invalid_request" });
      expect((await headOf(key))?.version).toBe(1);
      expect((await rolloutOf(key)).state).toBe("none");
    },
  );
});

describe("GET /v1/configs/{key}/-/rollout", () => {
  it("answers state none for a key that never had a rollout", async () => {
    const key = `${freshNamespace("ro")}/svc/plain`;
    const v1 = await publishOk(key, { v: 1 });
    expect(await rolloutOf(key)).toEqual({
      key,
      state: "none",
      live: { version: 1, etag: v1.etag, publishedAt: v1.publishedAt },
    });
  });

  it("answers 404 for a key never published, and is readable with a read scope", async () => {
    const ns = freshNamespace("ro");
    expect((await call("GET", `/v1/configs/${ns}/nothing/-/rollout`)).status).toBe(404);
    const key = `${ns}/svc/flags`;
    await publishOk(key, { v: 1 });
    expect((await rolloutOf(key, await adminToken(`read:${ns}`))).state).toBe("none");
  });
});

describe("PATCH /v1/configs/{key}/-/rollout", () => {
  it("raises the share, switching to a fixed share, and the edge follows at once", async () => {
    const { key } = await running({ v: 2 }, "10");
    const res = await patchRollout(key, { percent: 60 });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ state: "running", mode: "fixed", percent: 60, share: 60 });
    expect((await headOf(key))?.rollout).toMatchObject({ mode: "fixed", percent: 60 });
    for (let i = 0; i < 40; i++) {
      const id = `c${i}`;
      const expected = inCohort(bucketOf(key, id), 60) ? "2" : "1";
      expect((await edgeRead(key, id)).headers.get("Config-Version")).toBe(expected);
    }
  });

  it("freezes a linear rollout at its current share", async () => {
    const { key } = await running({ v: 2 }, "linear; start=20; step=10; every=3600");
    const res = await patchRollout(key, { percent: 20 });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ mode: "fixed", percent: 20, share: 20, fullAt: null });
  });

  it("refuses to lower the share (409): earlier candidate clients would go back to the stable version", async () => {
    const { key } = await running({ v: 2 }, "50");
    const res = await patchRollout(key, { percent: 49.99 });
    expect(res.status).toBe(409);
    expect((await problemOf(res)).detail).toContain("Abort the rollout instead");
    expect((await headOf(key))?.rollout?.percent).toBe(50);
  });

  it("answers 409 when no rollout is running", async () => {
    const key = `${freshNamespace("ro")}/svc/idle`;
    await publishOk(key, { v: 1 });
    expect((await patchRollout(key, { percent: 50 })).status).toBe(409);
  });

  it.each([
    [{ percent: 101 }],
    [{ percent: -1 }],
    [{ percent: "60" }],
    [{ percent: 12.345 }],
    [{}],
    [{ percent: 60, mode: "x" }],
  ])("answers 400 for the body %j", async (body) => {
    const { key } = await running();
    const res = await patchRollout(key, body);
    expect(res.status).toBe(400);
    expect((await headOf(key))?.rollout?.percent).toBe(30);
  });
});

describe("POST /v1/configs/{key}/-/rollout/complete", () => {
  it("makes the candidate the live version for everyone and ends the rollout", async () => {
    const { key, candidate } = await running();
    const res = await finish(key, "complete");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      state: "completed",
      resultVersion: 2,
      live: { version: 2, etag: candidate.etag },
      endedBy: "tester",
      share: null,
    });
    expect(await headOf(key)).toMatchObject({ version: 2, rollout: null });
    const edge = await edgeRead(key);
    expect(edge.headers.get("Config-Version")).toBe("2");
    expect(edge.headers.get("Cache-Control")).toMatch(/^public, /);
    // The key takes ordinary publishes again.
    expect((await publishOk(key, { v: 3 })).version).toBe(3);
  });

  it("answers 409 when no rollout is running", async () => {
    const key = `${freshNamespace("ro")}/svc/idle`;
    await publishOk(key, { v: 1 });
    expect((await finish(key, "complete")).status).toBe(409);
  });
});

describe("POST /v1/configs/{key}/-/rollout/abort", () => {
  it("publishes the stable content as a new version above the candidate", async () => {
    const { key } = await running('{"v":2}');
    const res = await finish(key, "abort", { message: "bad latency" });
    expect(res.status).toBe(200);
    expect(res.headers.get("Config-Version")).toBe("3");
    expect(await res.json()).toMatchObject({ state: "aborted", resultVersion: 3, live: { version: 3 } });
    expect(await headOf(key)).toMatchObject({ version: 3, rollout: null });
    const current = await call("GET", `/v1/configs/${key}`);
    expect(await current.text()).toBe('{"v":1}');
    const history = (await (await call("GET", `/v1/configs/${key}/-/versions`)).json()) as {
      versions: { version: number; message: string | null }[];
    };
    expect(history.versions[0]).toMatchObject({ version: 3, message: "bad latency" });
    // Every client, on the candidate or not, now gets v3: no version number went down.
    for (let i = 0; i < 30; i++)
      expect((await edgeRead(key, `c${i}`)).headers.get("Config-Version")).toBe("3");
  });

  it("describes the restoring version in history when no message is given", async () => {
    const { key } = await running();
    await finish(key, "abort");
    const one = (await (await call("GET", `/v1/configs/${key}/-/versions/3`)).json()) as { message: string };
    expect(one.message).toBe("rollout of v2 aborted: restores v1");
  });

  it("answers 409 when no rollout is running", async () => {
    const key = `${freshNamespace("ro")}/svc/idle`;
    await publishOk(key, { v: 1 });
    expect((await finish(key, "abort")).status).toBe(409);
  });
});

describe("who may run rollouts", () => {
  it.each([
    ["start", (key: string, token: string | null) => startRollout(key, { v: 3 }, "10", {}, token)],
    [
      "raise",
      (key: string, token: string | null) =>
        call("PATCH", `/v1/configs/${key}/-/rollout`, { token, json: { percent: 90 } }),
    ],
    [
      "complete",
      (key: string, token: string | null) => call("POST", `/v1/configs/${key}/-/rollout/complete`, { token }),
    ],
    [
      "abort",
      (key: string, token: string | null) => call("POST", `/v1/configs/${key}/-/rollout/abort`, { token }),
    ],
  ])("refuses to %s without a token (401) or with only a read scope (403)", async (_, send) => {
    const { ns, key } = await running();
    expect((await send(key, null)).status).toBe(401);
    expect((await send(key, await adminToken(`read:${ns}`))).status).toBe(403);
    expect((await send(key, await adminToken("publish:other"))).status).toBe(403);
    expect((await rolloutOf(key)).state).toBe("running");
    expect((await headOf(key))?.rollout?.percent).toBe(30);
  });

  it("lets a publish:{ns} token run the whole rollout", async () => {
    const ns = freshNamespace("ro");
    const key = `${ns}/svc/flags`;
    const token = await adminToken(`publish:${ns}`, { sub: "deployer" });
    await publishOk(key, { v: 1 }, { token });
    expect((await startRollout(key, { v: 2 }, "10", {}, token)).status).toBe(201);
    expect((await patchRollout(key, { percent: 50 }, token)).status).toBe(200);
    expect((await finish(key, "complete", { token })).status).toBe(200);
    expect(await rolloutOf(key)).toMatchObject({
      state: "completed",
      startedBy: "deployer",
      endedBy: "deployer",
    });
  });

  it("answers 405 for a PATCH of anything but the rollout", async () => {
    const key = `${freshNamespace("ro")}/svc/flags`;
    expect((await call("PATCH", `/v1/configs/${key}`, { json: { percent: 1 } })).status).toBe(405);
  });
});
