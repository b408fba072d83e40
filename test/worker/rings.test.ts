/**
 * Rollout rings at the edge (docs/rollouts.md, "Rings: one location first"): the same client id
 * gets the candidate at a location in the ring and the stable version elsewhere, decided from the
 * request's real `cf` (colo, continent). Runs the real edge app in workerd against real KV.
 */
import { describe, expect, it } from "vitest";
import { bucketOf, type FleetBatch, inCohort, type RolloutHead } from "../../core";
import { rolloutFixture as sharedRolloutFixture } from "../support/snapshot-fixture";
import { edge, env } from "./harness";

const AMS = { colo: "AMS", continent: "EU" };
const FRA = { colo: "FRA", continent: "EU" };
const DFW = { colo: "DFW", continent: "NA" };
const ids = Array.from({ length: 300 }, (_, i) => `host-${i}`);

const ringed = (percent: number, ring: RolloutHead["ring"]) =>
  sharedRolloutFixture(env, { mode: "fixed", percent, start: percent, step: 0, everySeconds: 0, ring });

/** Reads the key as client `id` from location `cf` (no `cf`: an unknown location). */
async function read(
  app: ReturnType<typeof edge>,
  key: string,
  id: string | null,
  cf?: IncomingRequestCfProperties | { colo: string; continent: string },
) {
  const headers: Record<string, string> = id === null ? {} : { "Config-Client-Id": id };
  return app.fetch(`/v1/configs/${key}`, cf ? { headers, cf } : { headers });
}

describe("a rollout with a ring", () => {
  it("serves the candidate at AMS and the stable version at DFW to the same client id", async () => {
    const { key } = await ringed(100, { colos: ["AMS"], continents: [] });
    const app = edge();
    const atAms = await read(app, key, "host-1", AMS);
    expect(atAms.headers.get("Config-Version")).toBe("2");
    expect(await atAms.json()).toEqual({ v: 2 });
    expect(atAms.headers.get("Config-Rollout")).toBe("candidate; share=100; ring=in");
    const atDfw = await read(app, key, "host-1", DFW);
    expect(atDfw.headers.get("Config-Version")).toBe("1");
    expect(await atDfw.json()).toEqual({ v: 1 });
    expect(atDfw.headers.get("Config-Rollout")).toBe("stable; share=100; ring=out");
    // At 100% inside the ring a request without an id gets the candidate too; outside, never.
    expect((await read(app, key, null, AMS)).headers.get("Config-Version")).toBe("2");
    expect((await read(app, key, null, DFW)).headers.get("Config-Version")).toBe("1");
  });

  it("keeps a request from an unknown location (no cf) on the stable version", async () => {
    const { key } = await ringed(100, { colos: ["AMS"], continents: ["EU", "NA"] });
    const res = await read(edge(), key, "host-1");
    expect(res.headers.get("Config-Version")).toBe("1");
    expect(res.headers.get("Config-Rollout")).toBe("stable; share=100; ring=out");
  });

  it("matches a continent of the ring, and applies the hash cohort there", async () => {
    const { key } = await ringed(40, { colos: [], continents: ["EU"] });
    const app = edge();
    for (const id of ids) {
      const expected = inCohort(bucketOf(key, id), 40) ? "2" : "1";
      expect((await read(app, key, id, FRA)).headers.get("Config-Version")).toBe(expected);
      expect((await read(app, key, id, DFW)).headers.get("Config-Version")).toBe("1");
    }
  });

  it("answers privately with Vary: Config-Client-Id inside and outside the ring (docs/rollouts.md)", async () => {
    const { key } = await ringed(100, { colos: ["AMS"], continents: [] });
    const app = edge();
    for (const cf of [AMS, DFW]) {
      const res = await read(app, key, "host-1", cf);
      expect(res.headers.get("Cache-Control")).toMatch(/^private,/);
      expect(res.headers.get("Vary")).toBe("Config-Client-Id");
    }
  });

  it("says nothing of rings for a rollout without one (a head written before rings)", async () => {
    const { key } = await ringed(100, undefined);
    const res = await read(edge(), key, "host-1", DFW);
    expect(res.headers.get("Config-Version")).toBe("2");
    expect(res.headers.get("Config-Rollout")).toBe("candidate; share=100");
  });

  it.each([
    ["a lower-case colo", { colos: ["ams"], continents: [] }],
    ["an unknown continent", { colos: [], continents: ["XX"] }],
    ["an empty ring", { colos: [], continents: [] }],
  ])("treats a head whose ring holds %s as a corrupt record, never as everywhere", async (_, ring) => {
    const { key } = await ringed(100, ring);
    const res = await read(edge(), key, "host-1", AMS);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ reason: "corrupt-record" });
  });
});

describe("fleet sightings at a ring's location", () => {
  it("carry the request's colo and continent, so the origin can tell the ring's clients", async () => {
    const { key } = await ringed(100, { colos: [], continents: ["EU"] });
    const batches: FleetBatch[] = [];
    const app = edge({
      telemetry: {
        flushTimer: false,
        fleet: { flushIntervalMs: 0 },
        sink: () => async (batch) => {
          batches.push(batch);
        },
      },
    });
    await read(app, key, "host-1", FRA);
    await read(app, key, "host-2", FRA);
    const sightings = batches.flatMap((b) => b.sightings);
    expect(sightings.length).toBeGreaterThan(0);
    for (const s of sightings) expect(s).toMatchObject({ key, version: 2, colo: "FRA", continent: "EU" });
  });
});
