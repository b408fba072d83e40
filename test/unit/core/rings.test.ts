/**
 * Rings (core/rings.ts, docs/rollouts.md "Rings: one location first"): which locations a rollout's
 * share applies in, how `Config-Rollout` spells them, and the widening rule (cohorts only grow).
 */
import { describe, expect, it } from "vitest";
import {
  bucketOf,
  describeRing,
  inCohort,
  inRing,
  parseRingCodes,
  parseRolloutHeader,
  type RolloutHead,
  ringFrom,
  ringOf,
  ringParams,
  ringWidens,
  servesCandidate,
} from "../../../core";

const AMS = { colo: "AMS", continent: "EU" };
const DFW = { colo: "DFW", continent: "NA" };
const ids = Array.from({ length: 2000 }, (_, i) => `client-${i}`);

function head(percent: number, ring: RolloutHead["ring"]): RolloutHead {
  return {
    candidate: { version: 2, etag: '"2-x"', publishedAt: 0 },
    mode: "fixed",
    percent,
    start: percent,
    step: 0,
    everySeconds: 0,
    startedAt: 0,
    ring,
  };
}

describe("inRing", () => {
  it("puts every location, known or not, in a rollout without a ring", () => {
    expect(inRing(null, AMS)).toBe(true);
    expect(inRing(undefined, null)).toBe(true);
  });
  it("matches a colo of the ring, or a continent of the ring", () => {
    const ring = ringOf(["AMS"], ["OC"]);
    expect(inRing(ring, AMS)).toBe(true);
    expect(inRing(ring, { colo: "SYD", continent: "OC" })).toBe(true);
    expect(inRing(ring, DFW)).toBe(false);
    expect(inRing(ring, { colo: "FRA", continent: "EU" })).toBe(false);
  });
  it("puts an unknown location in no ring", () => {
    expect(inRing(ringOf(["AMS"], ["EU"]), null)).toBe(false);
    expect(inRing(ringOf(["AMS"], []), { colo: null, continent: "EU" })).toBe(false);
  });
});

describe("servesCandidate with a ring", () => {
  it("serves the candidate at 100% to everyone in the ring, ids or not, and to nobody outside it", () => {
    const rollout = head(100, ringOf(["AMS"], []));
    expect(servesCandidate("a/b", rollout, "host-1", 0, AMS)).toBe(true);
    expect(servesCandidate("a/b", rollout, null, 0, AMS)).toBe(true);
    expect(servesCandidate("a/b", rollout, "host-1", 0, DFW)).toBe(false);
    expect(servesCandidate("a/b", rollout, "host-1", 0, null)).toBe(false);
  });
  it("applies the hash cohort inside the ring exactly as without one", () => {
    const ringed = head(30, ringOf([], ["EU"]));
    const everywhere = head(30, null);
    for (const id of ids) {
      const expected = inCohort(bucketOf("a/b", id), 30);
      expect(servesCandidate("a/b", ringed, id, 0, AMS)).toBe(expected);
      expect(servesCandidate("a/b", everywhere, id, 0, DFW)).toBe(expected);
      expect(servesCandidate("a/b", ringed, id, 0, DFW)).toBe(false);
    }
  });
  it("keeps every candidate client on the candidate when the ring widens (cohorts only grow)", () => {
    const rings = [ringOf(["AMS"], []), ringOf(["AMS"], ["EU"]), ringOf(["AMS", "DFW"], ["EU"]), null];
    const locations = [AMS, DFW, { colo: "FRA", continent: "EU" }, { colo: "SYD", continent: "OC" }];
    for (const id of ids.slice(0, 300)) {
      for (const location of locations) {
        let was = false;
        for (const ring of rings) {
          const now = servesCandidate("a/b", head(50, ring), id, 0, location);
          if (was) expect(now).toBe(true);
          was = now;
        }
      }
    }
  });
});

describe("Config-Rollout ring parameters", () => {
  it("parses colos and continents after a share or a linear schedule, sorted without repeats", () => {
    expect(parseRolloutHeader('100; colos="FRA AMS AMS"')).toMatchObject({
      ok: true,
      value: { mode: "fixed", percent: 100, ring: { colos: ["AMS", "FRA"], continents: [] } },
    });
    expect(
      parseRolloutHeader('linear; start=10; step=10; every=60; continents="NA EU"; max-rejected=5'),
    ).toMatchObject({
      ok: true,
      value: { mode: "linear", ring: { colos: [], continents: ["EU", "NA"] }, gates: { maxRejected: 5 } },
    });
    expect(parseRolloutHeader('30; colos="AMS"; continents="OC"')).toMatchObject({
      ok: true,
      value: { ring: { colos: ["AMS"], continents: ["OC"] } },
    });
  });
  it.each([
    ['100; colos="ams"', /upper-case/],
    ['100; colos="AMSX"', /IATA/],
    ["100; colos=AMS", /quoted/],
    ['100; colos=""', /quoted/],
    ['100; colos="AMS,FRA"', /quoted/],
    ['100; continents="EU XX"', /AF AN AS EU NA OC SA/],
    ['100; colos="AMS"; colos="FRA"', /bad parameter/],
    ['100; rings="AMS"', /unknown parameter/],
  ])("refuses %j", (header, reason) => {
    const parsed = parseRolloutHeader(header);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });
  it("refuses more than 64 colos", () => {
    const codes = Array.from(
      { length: 65 },
      (_, i) => `A${String.fromCharCode(65 + Math.floor(i / 26))}${String.fromCharCode(65 + (i % 26))}`,
    );
    expect(parseRingCodes("colos", codes)).toMatchObject({ ok: false, reason: /at most 64/ });
    expect(parseRingCodes("colos", codes.slice(0, 64)).ok).toBe(true);
  });
  it("writes a ring back as the parameters it was parsed from", () => {
    const ring = ringOf(["AMS", "FRA"], ["EU"]);
    expect(ringParams(ring)).toBe('; colos="AMS FRA"; continents="EU"');
    expect(parseRolloutHeader(`30${ringParams(ring)}`)).toMatchObject({ ok: true, value: { ring } });
    expect(ringParams(null)).toBe("");
  });
});

describe("ringWidens", () => {
  it("accepts a superset, the same ring, and dropping the ring (everywhere)", () => {
    const ams = ringOf(["AMS"], []);
    expect(ringWidens(ams, ringOf(["AMS", "FRA"], ["EU"])).ok).toBe(true);
    expect(ringWidens(ams, ams).ok).toBe(true);
    expect(ringWidens(ams, null).ok).toBe(true);
    expect(ringWidens(null, null).ok).toBe(true);
  });
  it("refuses dropping a location, even one a continent added covers, and narrowing everywhere", () => {
    expect(ringWidens(ringOf(["AMS", "FRA"], []), ringOf(["AMS"], ["EU"]))).toMatchObject({
      ok: false,
      reason: /leaves out FRA/,
    });
    expect(ringWidens(ringOf([], ["EU"]), ringOf(["AMS"], []))).toMatchObject({ ok: false, reason: /EU/ });
    expect(ringWidens(null, ringOf(["AMS"], []))).toMatchObject({ ok: false, reason: /everywhere/ });
  });
});

describe("ringFrom (stored rings)", () => {
  it("reads a well-formed ring, and absent or null as no ring", () => {
    expect(ringFrom({ colos: ["AMS"], continents: [] })).toEqual({ colos: ["AMS"], continents: [] });
    expect(ringFrom(undefined)).toBeNull();
    expect(ringFrom(null)).toBeNull();
  });
  it.each([
    [{ colos: ["ams"], continents: [] }],
    [{ colos: [], continents: [] }],
    [{ colos: ["AMS"] }],
    [{ colos: "AMS", continents: [] }],
    [["AMS"]],
    ["AMS"],
  ])("calls %j malformed (never everywhere)", (value) => {
    expect(ringFrom(value)).toBe("malformed");
  });
  it("describes a ring in words", () => {
    expect(describeRing(ringOf(["AMS"], ["EU"]))).toBe("colos=AMS; continents=EU");
    expect(describeRing(null)).toBe("everywhere");
  });
});
