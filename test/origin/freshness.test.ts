/**
 * Config-Freshness (DESIGN §8) end to end inside workerd: the origin's drain signs a proof per
 * servable version into the head, the real edge (EDGE binding, same KV) passes it on with every
 * 200/304 of a current version, and the NamespaceStore's alarm re-signs it at half-life.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { type FreshnessPayload, type HeadRecord, type Jwks, kvKeys, verifyFreshness } from "../../core";
import { call, freshNamespace, originEnv, publishOk, storeOf } from "./support/origin";

const jwks = (): Jwks => JSON.parse(originEnv.PUBLIC_JWKS) as Jwks;

function edge(path: string, headers: Record<string, string> = {}): Promise<Response> {
  if (!originEnv.EDGE) throw new Error("the origin test project needs the EDGE binding");
  return originEnv.EDGE.fetch(`https://edge.test${path}`, { headers });
}

async function publicNamespace(settings: Record<string, unknown> = {}): Promise<string> {
  const ns = freshNamespace();
  const res = await call("PUT", `/v1/namespaces/${ns}`, { json: { visibility: "public", ...settings } });
  expect(res.status).toBe(200);
  return ns;
}

async function proofOf(res: Response): Promise<FreshnessPayload> {
  const header = res.headers.get("Config-Freshness");
  expect(header, "Config-Freshness header").not.toBeNull();
  const check = await verifyFreshness(header ?? "", jwks());
  if (!check.ok) throw new Error(`proof does not verify: ${check.reason}`);
  return check.payload;
}

const kvHead = async (key: string) => (await originEnv.CONFIGS.get(kvKeys.head(key), "json")) as HeadRecord;

describe("Config-Freshness on the edge's answers", () => {
  it("is on a 200 of the current version, verifies against PUBLIC_JWKS and names that version", async () => {
    const key = `${await publicNamespace()}/app`;
    await publishOk(key, { v: 1 });
    const v2 = await publishOk(key, { v: 2 });
    const res = await edge(`/v1/configs/${key}`);
    expect(res.status).toBe(200);
    const proof = await proofOf(res);
    expect(proof).toMatchObject({ key, ver: 2, digest: v2.digest });
    expect(proof.digest).toBe(res.headers.get("Content-Digest"));
    // Default freshnessTtl: one day.
    expect(proof.exp - proof.iat).toBe(86400);
    expect(Math.abs(proof.iat - Date.now() / 1000)).toBeLessThan(60);
  });

  it("is on a 304 too, the same proof as the 200", async () => {
    const key = `${await publicNamespace()}/app`;
    await publishOk(key, { v: 1 });
    const first = await edge(`/v1/configs/${key}`);
    const etag = first.headers.get("ETag") ?? "";
    const again = await edge(`/v1/configs/${key}`, { "If-None-Match": etag });
    expect(again.status).toBe(304);
    expect(again.headers.get("Config-Freshness")).toBe(first.headers.get("Config-Freshness"));
    expect((await proofOf(again)).ver).toBe(1);
  });

  it("is not on ?version=N, which is immutable", async () => {
    const key = `${await publicNamespace()}/app`;
    await publishOk(key, { v: 1 });
    const res = await edge(`/v1/configs/${key}?version=1`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Config-Freshness")).toBeNull();
  });

  it("lasts the namespace's freshnessTtl, and a lowered ttl re-signs at the next drain", async () => {
    const ns = await publicNamespace();
    const key = `${ns}/app`;
    await publishOk(key, { v: 1 });
    const settings = await call("PUT", `/v1/namespaces/${ns}`, { json: { freshnessTtl: 600 } });
    expect(await settings.json()).toMatchObject({ freshnessTtl: 600, distribution: "complete" });
    await publishOk(key, { v: 2 });
    const proof = await proofOf(await edge(`/v1/configs/${key}`));
    expect(proof.ver).toBe(2);
    expect(proof.exp - proof.iat).toBe(600);
  });

  it("re-signs every live key's proof at once when freshnessTtl changes", async () => {
    const ns = await publicNamespace();
    const key = `${ns}/app`;
    await publishOk(key, { v: 1 });
    expect((await call("PUT", `/v1/namespaces/${ns}`, { json: { freshnessTtl: 3600 } })).status).toBe(200);
    const proof = await proofOf(await edge(`/v1/configs/${key}`));
    expect(proof).toMatchObject({ ver: 1 });
    expect(proof.exp - proof.iat).toBe(3600);
  });

  it.each([59, 7 * 86400 + 1, "600", 1.5])("refuses freshnessTtl %j with a 400 problem", async (ttl) => {
    const ns = freshNamespace();
    const res = await call("PUT", `/v1/namespaces/${ns}`, { json: { freshnessTtl: ttl } });
    expect(res.status).toBe(400);
    expect(res.headers.get("Content-Type")).toBe("application/problem+json");
    expect(await res.text()).toContain("freshnessTtl must be an integer from 60 to 604800");
  });

  it("names the candidate's version for a client in a rollout's cohort", async () => {
    const key = `${await publicNamespace()}/app`;
    await publishOk(key, { v: 1 });
    const candidate = await publishOk(key, { v: 2 }, { headers: { "Config-Rollout": "100" } });
    const head = await kvHead(key);
    expect(Object.keys(head.freshness ?? {}).sort()).toEqual(["1", "2"]);
    const res = await edge(`/v1/configs/${key}`, { "Config-Client-Id": "host-1" });
    expect(res.headers.get("Config-Version")).toBe("2");
    expect(await proofOf(res)).toMatchObject({ ver: 2, digest: candidate.digest });
  });
});

describe("re-signing by the NamespaceStore's alarm", () => {
  it("arms the alarm for the proof's half-life, and the alarm signs a new proof the edge serves", async () => {
    const ns = await publicNamespace({ maxAge: 300 });
    const key = `${ns}/app`;
    await publishOk(key, { v: 1 });
    const first = await proofOf(await edge(`/v1/configs/${key}`));
    const alarmAt = await runInDurableObject(storeOf(ns), (_instance, state) => state.storage.getAlarm());
    expect(alarmAt).toBe((first.iat + 43200) * 1000);

    // Half a day and a minute later, by the object's clock: the alarm finds the proof due.
    const shiftMs = (43200 + 60) * 1000;
    await runInDurableObject(storeOf(ns), (instance) => {
      instance.clock = () => Date.now() + shiftMs;
    });
    expect(await runDurableObjectAlarm(storeOf(ns))).toBe(true);
    const head = await kvHead(key);
    const stored = await verifyFreshness(head.freshness?.["1"] ?? "", jwks());
    expect(stored.ok && stored.payload.iat).toBeGreaterThanOrEqual(first.iat + 43200);

    // The re-drain purged the edge, so it serves the new proof despite max-age=300.
    const served = await proofOf(await edge(`/v1/configs/${key}`));
    expect(served.iat).toBeGreaterThanOrEqual(first.iat + 43200);
    expect(served.exp - served.iat).toBe(86400);
    const next = await runInDurableObject(storeOf(ns), (_instance, state) => state.storage.getAlarm());
    expect(next).toBe((served.iat + 43200) * 1000);
  });

  it("leaves a proof before its half-life alone (no re-sign, same bytes)", async () => {
    const ns = await publicNamespace();
    const key = `${ns}/app`;
    await publishOk(key, { v: 1 });
    const before = (await kvHead(key)).freshness?.["1"];
    await runInDurableObject(storeOf(ns), (instance) => {
      instance.clock = () => Date.now() + 3600_000;
    });
    await runDurableObjectAlarm(storeOf(ns));
    expect((await kvHead(key)).freshness?.["1"]).toBe(before);
  });

  it("carries no proof for a deleted key", async () => {
    const key = `${await publicNamespace()}/app`;
    await publishOk(key, { v: 1 });
    await call("DELETE", `/v1/configs/${key}`);
    expect((await kvHead(key)).freshness).toEqual({});
  });
});
