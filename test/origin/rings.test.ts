/**
 * Rollout rings through the origin's API (docs/rollouts.md, "Rings: one location first"):
 * `Config-Rollout` colos/continents stored with the rollout and carried by the KV head, the
 * rollout document showing the ring, PATCH widening it (never narrowing: 409), bad codes 400
 * with nothing changed, the audit entries, and the real edge following at once.
 */
import { describe, expect, it } from "vitest";
import type { FleetViewDocument } from "../../origin/contract";
import { worker } from "../support/workerd";
import {
  auditOf,
  edgeRead,
  finish,
  headOf,
  makePublic,
  patchRollout,
  type RolloutDocument,
  rolloutOf,
  startRollout,
} from "./rollout-support";
import { call, freshNamespace, ORIGIN, originEnv, problemOf, publishOk } from "./support/origin";

const AMS = { colo: "AMS", continent: "EU" };
const FRA = { colo: "FRA", continent: "EU" };
const DFW = { colo: "DFW", continent: "NA" };

async function running(rollout: string) {
  const ns = freshNamespace("rg");
  const key = `${ns}/svc/flags`;
  await makePublic(ns);
  await publishOk(key, { v: 1 });
  const res = await startRollout(key, { v: 2 }, rollout);
  if (res.status !== 201) throw new Error(`rollout start answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { rollout: RolloutDocument };
  return { ns, key, rollout: body.rollout };
}

const versionAt = async (key: string, cf: typeof AMS, id = "host-1") =>
  (await edgeRead(key, id, {}, cf)).headers.get("Config-Version");

describe("starting a rollout with a ring", () => {
  it("stores the ring, shows it in the rollout document and writes it into the head", async () => {
    const { key, rollout } = await running('100; colos="FRA AMS"; continents="OC"');
    expect(rollout).toMatchObject({
      state: "running",
      share: 100,
      ring: { colos: ["AMS", "FRA"], continents: ["OC"] },
    });
    expect((await rolloutOf(key)).ring).toEqual({ colos: ["AMS", "FRA"], continents: ["OC"] });
    expect((await headOf(key))?.rollout?.ring).toEqual({ colos: ["AMS", "FRA"], continents: ["OC"] });
  });

  it("makes the real edge serve the candidate in the ring and the stable version elsewhere", async () => {
    const { key } = await running('100; colos="AMS"');
    expect(await versionAt(key, AMS)).toBe("2");
    expect(await versionAt(key, DFW)).toBe("1");
    expect(await versionAt(key, FRA)).toBe("1");
  });

  it("keeps the head of a rollout without a ring as before rings (no ring member), shown as null", async () => {
    const { key, rollout } = await running("30");
    expect(rollout.ring).toBeNull();
    const head = await headOf(key);
    expect(head?.rollout).not.toHaveProperty("ring");
  });

  it.each([
    ['100; colos="ams"', /upper-case/],
    ['100; continents="EU XX"', /AF AN AS EU NA OC SA/],
    ["100; colos=AMS", /quoted list/],
  ])("refuses Config-Rollout %j with 400 and starts nothing", async (header, detail) => {
    const ns = freshNamespace("rg");
    const key = `${ns}/svc/flags`;
    await publishOk(key, { v: 1 });
    const res = await startRollout(key, { v: 2 }, header);
    expect(res.status).toBe(400);
    expect((await problemOf(res)).detail).toMatch(detail);
    expect((await rolloutOf(key)).state).toBe("none");
  });

  it("treats a retry with another ring as a new start, refused while the first runs (409)", async () => {
    const { key } = await running('30; colos="AMS"');
    expect((await startRollout(key, { v: 2 }, '30; colos="AMS"')).status).toBe(200);
    expect((await startRollout(key, { v: 2 }, '30; colos="FRA"')).status).toBe(409);
  });
});

describe("PATCH …/-/rollout widening the ring", () => {
  it("adds locations, keeps the share, audits the change, and the edge follows at once", async () => {
    const { ns, key } = await running('linear; start=100; step=1; every=60; colos="AMS"');
    expect(await versionAt(key, FRA)).toBe("1");
    const res = await patchRollout(key, { continents: ["EU"] });
    expect(res.status).toBe(200);
    const doc = (await res.json()) as RolloutDocument;
    expect(doc).toMatchObject({ mode: "linear", ring: { colos: ["AMS"], continents: ["EU"] } });
    expect((await headOf(key))?.rollout?.ring).toEqual({ colos: ["AMS"], continents: ["EU"] });
    expect(await versionAt(key, FRA)).toBe("2");
    expect(await versionAt(key, DFW)).toBe("1");

    expect((await patchRollout(key, { ring: null })).status).toBe(200);
    expect((await rolloutOf(key)).ring).toBeNull();
    expect(await versionAt(key, DFW)).toBe("2");

    const updates = (await auditOf(`namespace=${ns}`)).entries.filter((e) => e.action === "rollout_update");
    expect(updates.map((e) => e.detail)).toEqual([
      { ring: { from: "colos=AMS", to: "colos=AMS; continents=EU" } },
      { ring: { from: "colos=AMS; continents=EU", to: "everywhere" } },
    ]);
    const start = (await auditOf(`key=${key}`)).entries.find((e) => e.action === "rollout_start");
    expect(start?.detail).toMatchObject({ ring: "colos=AMS" });
  });

  it("widens and raises the share in one PATCH, audited as one update", async () => {
    const { key } = await running('10; colos="AMS"');
    const res = await patchRollout(key, { percent: 50, colos: ["AMS", "FRA"] });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      percent: 50,
      share: 50,
      ring: { colos: ["AMS", "FRA"], continents: [] },
    });
    const update = (await auditOf(`key=${key}`)).entries.find((e) => e.action === "rollout_update");
    expect(update?.detail).toEqual({
      mode: { from: "fixed", to: "fixed" },
      percent: { from: 10, to: 50 },
      ring: { from: "colos=AMS", to: "colos=AMS FRA" },
    });
  });

  it("records nothing for a PATCH that changes nothing (the same ring)", async () => {
    const { key } = await running('10; colos="AMS"');
    expect((await patchRollout(key, { colos: ["AMS"] })).status).toBe(200);
    const updates = (await auditOf(`key=${key}`)).entries.filter((e) => e.action === "rollout_update");
    expect(updates).toEqual([]);
  });

  it.each([
    ["dropping a colo", '100; colos="AMS FRA"', { colos: ["AMS"] }, /leaves out FRA/],
    [
      "a continent in place of its colos",
      '100; colos="AMS"',
      { colos: ["FRA"], continents: ["EU"] },
      /leaves out AMS/,
    ],
    ["a ring on a rollout everywhere", "100", { colos: ["AMS"] }, /already applies everywhere/],
  ])("refuses %s with 409 (a ring only grows) and changes nothing", async (_, start, patch, detail) => {
    const { key } = await running(start);
    const before = await headOf(key);
    const res = await patchRollout(key, patch);
    expect(res.status).toBe(409);
    const problem = await problemOf(res);
    expect(problem.detail).toMatch(detail);
    expect(problem.detail).toContain("a ring only grows");
    expect(await headOf(key)).toEqual(before);
    const updates = (await auditOf(`key=${key}`)).entries.filter((e) => e.action === "rollout_update");
    expect(updates).toEqual([]);
  });

  it.each([
    [{ colos: ["ams"] }, /upper-case/],
    [{ colos: [] }, /non-empty/],
    [{ colos: "AMS" }, /non-empty list/],
    [{ continents: ["EUR"] }, /AF AN AS EU NA OC SA/],
    [{ ring: null, colos: ["AMS"] }, /cannot be combined/],
    [{ ring: { colos: ["AMS"] } }, /ring takes only null/],
    [{}, /at least one/],
  ])("refuses %j with 400 and changes nothing", async (body, detail) => {
    const { key } = await running('10; colos="AMS"');
    const before = await headOf(key);
    const res = await patchRollout(key, body);
    expect(res.status).toBe(400);
    expect((await problemOf(res)).detail).toMatch(detail);
    expect(await headOf(key)).toEqual(before);
  });

  it("completes and aborts a ring rollout as any other (the candidate, then the stable content, everywhere)", async () => {
    const { key } = await running('100; colos="AMS"');
    expect((await finish(key, "complete")).status).toBe(200);
    expect(await versionAt(key, DFW)).toBe("2");
    expect((await headOf(key))?.rollout).toBeNull();
  });
});

/** Sightings as the edge's fleet recorder sends them (POST /internal/fleet). */
async function sendSightings(sightings: object[]) {
  const res = await worker.fetch(`${ORIGIN}/internal/fleet`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Fleetconf-Purge-Secret": originEnv.PURGE_SECRET },
    body: JSON.stringify({ sightings, dropped: 0 }),
  });
  expect(res.status).toBe(202);
}

describe("the fleet view of a ring rollout", () => {
  it("expects the candidate only in the ring's locations, and marks which colos are in it", async () => {
    const { key } = await running('100; colos="AMS"; continents="OC"');
    const seen = (clientId: string, version: number, colo: string, continent: string | null) => ({
      key,
      clientId,
      version,
      seenAt: Date.now(),
      colo,
      ...(continent === null ? {} : { continent }),
    });
    await sendSightings([
      seen("ams-1", 2, "AMS", "EU"),
      seen("ams-2", 1, "AMS", "EU"), // lagging: the ring serves it the candidate
      seen("syd-1", 2, "SYD", "OC"), // in the ring by its continent
      seen("dfw-1", 1, "DFW", "NA"), // outside: the stable version is right
      seen("dfw-2", 1, "DFW", null), // an edge that sent no continent: judged by its colo
    ]);
    const res = await call("GET", `/v1/configs/${key}/-/fleet`);
    expect(res.status).toBe(200);
    const view = (await res.json()) as FleetViewDocument;
    expect(view.converged).toBe(0.8);
    expect(view.rollout?.cohorts.candidate).toMatchObject({ clients: 3, converged: 0.6667 });
    expect(view.rollout?.cohorts.stable).toMatchObject({ clients: 2, converged: 1 });
    expect(view.locations).toEqual([
      { colo: "AMS", clients: 2, converged: 0.5, applied: 0, rejected: 0, inRing: true },
      { colo: "DFW", clients: 2, converged: 1, applied: 0, rejected: 0, inRing: false },
      { colo: "SYD", clients: 1, converged: 1, applied: 0, rejected: 0, inRing: true },
    ]);
  });
});
