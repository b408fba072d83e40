/**
 * Concurrency inside workerd: many requests racing on one key through the real origin worker and
 * its NamespaceStore. The Durable Object serialises writes, so conditional writes have exactly one
 * winner, versions are consecutive and never repeated, and every committed version is in history,
 * in KV and served by the edge.
 */
import { describe, expect, it } from "vitest";
import { decodeSnapshot, kvKeys } from "../../core";
import { assertConverged, assertHeadsResolve, edgeGet, stateOf } from "./reliability-support";
import { call, freshNamespace, originEnv, problemOf, publish, publishOk } from "./support/origin";

interface VersionsBody {
  versions: { version: number; etag: string }[];
  next: string | null;
}

async function history(key: string): Promise<VersionsBody["versions"]> {
  const res = await call("GET", `/v1/configs/${key}/-/versions?limit=1000`);
  expect(res.status).toBe(200);
  return ((await res.json()) as VersionsBody).versions;
}

async function makePublic(ns: string): Promise<void> {
  const res = await call("PUT", `/v1/namespaces/${ns}`, { json: { visibility: "public", maxAge: 60 } });
  expect(res.status).toBe(200);
}

/** Counts statuses of settled responses, e.g. `{201: 1, 412: 39}`. */
function tally(responses: Response[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const res of responses) out[res.status] = (out[res.status] ?? 0) + 1;
  return out;
}

const CONTENDERS = 40;

describe("racing conditional publishes", { timeout: 90_000 }, () => {
  it("lets exactly one of 40 publishes with the same If-Match win, round after round; the rest get 412", async () => {
    const ns = freshNamespace("race");
    const key = `${ns}/app`;
    await makePublic(ns);
    let etag = (await publishOk(key, { round: 0 })).etag;
    const rounds = 5;
    for (let round = 1; round <= rounds; round++) {
      const responses = await Promise.all(
        Array.from({ length: CONTENDERS }, (_, i) =>
          publish(key, { round, contender: i }, { headers: { "If-Match": etag } }),
        ),
      );
      expect(tally(responses)).toEqual({ 201: 1, 412: CONTENDERS - 1 });
      const winner = responses.find((r) => r.status === 201);
      const body = (await winner?.json()) as { version: number; etag: string };
      expect(body.version).toBe(round + 1);
      for (const loser of responses.filter((r) => r.status === 412)) {
        const problem = await problemOf(loser);
        expect(problem).toMatchObject({ status: 412, code: "precondition_failed" });
      }
      etag = body.etag;
    }
    const versions = await history(key);
    expect(versions.map((v) => v.version)).toEqual([6, 5, 4, 3, 2, 1]);
    expect(await assertConverged(ns)).toBe(rounds + 1);
    const served = await edgeGet(`/v1/configs/${key}`);
    expect(served.headers.get("Config-Version")).toBe(String(rounds + 1));
    expect(served.headers.get("ETag")).toBe(etag);
  });

  it("lets exactly one of 40 If-None-Match: * creates win", async () => {
    const ns = freshNamespace("race");
    const key = `${ns}/fresh`;
    const responses = await Promise.all(
      Array.from({ length: CONTENDERS }, (_, i) =>
        publish(key, { contender: i }, { headers: { "If-None-Match": "*" } }),
      ),
    );
    expect(tally(responses)).toEqual({ 201: 1, 412: CONTENDERS - 1 });
    expect((await history(key)).map((v) => v.version)).toEqual([1]);
    await assertConverged(ns);
  });

  it("answers 201 once and 200 for the rest when 40 identical publishes race", async () => {
    const ns = freshNamespace("race");
    const key = `${ns}/same`;
    const responses = await Promise.all(
      Array.from({ length: CONTENDERS }, () => publish(key, { same: true })),
    );
    expect(tally(responses)).toEqual({ 201: 1, 200: CONTENDERS - 1 });
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as { version: number }[];
    expect(new Set(bodies.map((b) => b.version))).toEqual(new Set([1]));
    expect(await history(key)).toHaveLength(1);
  });
});

describe("racing unconditional writes", { timeout: 90_000 }, () => {
  it("gives 40 concurrent publishes versions 1..40, each once, all in history, KV and the edge", async () => {
    const ns = freshNamespace("race");
    const key = `${ns}/app`;
    await makePublic(ns);
    const responses = await Promise.all(
      Array.from({ length: CONTENDERS }, (_, i) => publish(key, { writer: i, pad: "x".repeat(i) })),
    );
    expect(tally(responses)).toEqual({ 201: CONTENDERS });
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as { version: number; etag: string }[];
    const byVersion = new Map(bodies.map((b, writer) => [b.version, { ...b, writer }]));
    expect([...byVersion.keys()].sort((a, b) => a - b)).toEqual(
      Array.from({ length: CONTENDERS }, (_, i) => i + 1),
    );

    const listed = await history(key);
    expect(listed).toHaveLength(CONTENDERS);
    for (const item of listed) expect(item.etag).toBe(byVersion.get(item.version)?.etag);
    // Each version holds exactly the bytes its own request sent, in SQLite and in KV.
    for (const [version, { writer }] of byVersion) {
      const sent = JSON.stringify({ writer, pad: "x".repeat(writer) });
      const raw = await originEnv.CONFIGS.get(kvKeys.snapshot(key, version), "arrayBuffer");
      expect(raw).not.toBeNull();
      expect(new TextDecoder().decode(decodeSnapshot(raw as ArrayBuffer).body)).toBe(sent);
      const edge = await edgeGet(`/v1/configs/${key}?version=${version}`);
      expect(await edge.text()).toBe(sent);
    }
    expect(await assertConverged(ns)).toBe(CONTENDERS);
    expect((await edgeGet(`/v1/configs/${key}`)).headers.get("Config-Version")).toBe(String(CONTENDERS));
  });

  it("keeps versions unique and increasing when publishes, rollbacks and deletes race", async () => {
    const ns = freshNamespace("race");
    const key = `${ns}/mixed`;
    await publishOk(key, { base: true });
    const operations = Array.from({ length: 45 }, (_, i) => {
      if (i % 9 === 4) return call("DELETE", `/v1/configs/${key}`);
      if (i % 5 === 2) return call("POST", `/v1/configs/${key}/-/rollback`, { json: { to: 1 } });
      return publish(key, { op: i });
    });
    const responses = await Promise.all(operations);
    const created: number[] = [];
    let deletes = 0;
    for (const res of responses) {
      const body = (await res.json()) as { version?: number; deleted?: boolean };
      // A delete of an already deleted key and a rollback equal to the live bytes are the only
      // outcomes besides a new version; nothing else may happen.
      if (res.status === 201) created.push(body.version ?? -1);
      else if (res.status === 200 && body.deleted) deletes++;
      else expect([200, 404]).toContain(res.status);
    }
    expect(new Set(created).size).toBe(created.length);
    const versions = (await history(key)).map((v) => v.version);
    expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => versions.length - i));
    expect(versions.length).toBe(created.length + 1);
    const state = await stateOf(ns);
    // Every change is audited once: the first publish, each new version and each delete.
    expect(state.store.audit).toHaveLength(1 + created.length + deletes);
    await assertConverged(ns);
    expect(await assertHeadsResolve(ns)).toBe(1);
  });

  it("keeps keys independent when 10 keys each take 6 concurrent publishes", async () => {
    const ns = freshNamespace("race");
    const keys = Array.from({ length: 10 }, (_, k) => `${ns}/svc/k${k}`);
    const responses = await Promise.all(
      keys.flatMap((key) => Array.from({ length: 6 }, (_, i) => publish(key, { key, i }))),
    );
    expect(tally(responses)).toEqual({ 201: 60 });
    for (const key of keys) expect((await history(key)).map((v) => v.version)).toEqual([6, 5, 4, 3, 2, 1]);
    expect(await assertConverged(ns)).toBe(60);
    expect(await assertHeadsResolve(ns)).toBe(10);
  });
});
