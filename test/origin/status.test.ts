/**
 * `GET /v1/status`: every namespace written through the admin API (NamespaceRegistry) with its keys,
 * live versions, running rollouts, pending distribution, last publish and recent errors.
 */
import { describe, expect, it } from "vitest";
import { adminToken, call, freshNamespace, publish } from "./support/origin";

type Status = {
  namespaces: {
    namespace: string;
    keys: { key: string; version: number | null; deleted: boolean; clients: number }[];
    rollouts: { key: string; candidateVersion: number; stableVersion: number }[];
    pending: unknown[];
    lastPublish: { key: string; version: number; action: string } | null;
    drainFailures: number;
    recentErrors: unknown[];
  }[];
  totals: { namespaces: number };
};

async function status(query = "", token?: string) {
  const res = await call("GET", `/v1/status${query}`, token === undefined ? {} : { token });
  return { res, body: (await res.json()) as Status };
}

describe("GET /v1/status", () => {
  it("lists a namespace after a publish, with its keys, versions, rollouts and last publish", async () => {
    const namespace = freshNamespace();
    expect((await publish(`${namespace}/a/flags`, { v: 1 })).status).toBe(201);
    expect((await publish(`${namespace}/b/limits`, { v: 1 })).status).toBe(201);
    expect(
      (await publish(`${namespace}/b/limits`, { v: 2 }, { headers: { "Config-Rollout": "10" } })).status,
    ).toBe(201);
    const { res, body } = await status();
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const entry = body.namespaces.find((n) => n.namespace === namespace);
    expect(entry).toBeDefined();
    expect(entry?.keys.map((k) => [k.key, k.version, k.deleted])).toEqual([
      [`${namespace}/a/flags`, 1, false],
      [`${namespace}/b/limits`, 1, false],
    ]);
    expect(entry?.rollouts).toMatchObject([
      { key: `${namespace}/b/limits`, stableVersion: 1, candidateVersion: 2 },
    ]);
    expect(entry?.lastPublish).toMatchObject({
      key: `${namespace}/b/limits`,
      version: 2,
      action: "rollout_start",
    });
    expect(entry?.pending).toEqual([]);
    expect(entry?.drainFailures).toBe(0);
    expect(body.totals.namespaces).toBeGreaterThanOrEqual(1);
  });

  it("does not list a namespace whose only write was refused", async () => {
    const namespace = freshNamespace();
    expect((await publish(`${namespace}/a/flags`, "{not json")).status).toBe(400);
    const { body } = await status();
    expect(body.namespaces.some((n) => n.namespace === namespace)).toBe(false);
  });

  it("narrows to one namespace with ?namespace= and then needs only its read scope", async () => {
    const namespace = freshNamespace();
    expect((await publish(`${namespace}/a/flags`, { v: 1 })).status).toBe(201);
    const token = await adminToken(`read:${namespace}`);
    const { res, body } = await status(`?namespace=${namespace}`, token);
    expect(res.status).toBe(200);
    expect(body.namespaces.map((n) => n.namespace)).toEqual([namespace]);
  });

  it("answers 401 without a token, 403 for a namespace-scoped token without ?namespace, 400 for a bad name", async () => {
    expect((await call("GET", "/v1/status", { token: null })).status).toBe(401);
    expect((await status("", await adminToken("read:x"))).res.status).toBe(403);
    expect((await status("?namespace=Bad_NS")).res.status).toBe(400);
  });
});
