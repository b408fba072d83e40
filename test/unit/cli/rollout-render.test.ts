/** `fleetconf rollout status` output: the ring, and the fleet per location with a RING column. */
import { describe, expect, it } from "vitest";
import type { RolloutStatus } from "../../../cli/change-control-api";
import { renderRollout } from "../../../cli/commands/rollout-render";
import type { FleetDocument } from "../../../cli/fleet-api";
import { pipedOutput } from "./support/piped-output";

const piped = pipedOutput;

const at = "2026-12-01T12:00:00.000Z";
const running = (ring: RolloutStatus["ring"]): RolloutStatus => ({
  key: "payments/prod/flags",
  state: "running",
  live: { version: 1, etag: '"1-a"', publishedAt: at },
  stable: { version: 1 },
  candidate: { version: 2, etag: '"2-b"', publishedAt: at },
  mode: "fixed",
  percent: 100,
  start: 100,
  step: 0,
  everySeconds: 0,
  ring,
  share: 100,
  fullAt: at,
  startedAt: at,
  startedBy: "ana",
});

const fleet = (inRing: boolean | undefined): FleetDocument => ({
  key: "payments/prod/flags",
  window: 300,
  clients: 3,
  versions: [],
  current: 1,
  converged: 1,
  rollout: null,
  locations: [
    {
      colo: "AMS",
      clients: 1,
      converged: 1,
      applied: 1,
      rejected: 0,
      ...(inRing === undefined ? {} : { inRing }),
    },
    {
      colo: "DFW",
      clients: 2,
      converged: 1,
      applied: 0,
      rejected: 0,
      ...(inRing === undefined ? {} : { inRing: !inRing }),
    },
  ],
  at,
});

describe("renderRollout", () => {
  it("names the ring, says when the whole ring has the candidate, and marks each location in or out", () => {
    const text = renderRollout(piped(), running({ colos: ["AMS"], continents: ["OC"] }), fleet(true));
    expect(text).toMatch(/ring\s+colos=AMS; continents=OC/);
    expect(text).toMatch(/whole ring at/);
    expect(text).toMatch(/LOCATION\s+RING\s+CLIENTS\s+CONVERGED\s+APPLIED\s+REJECTED/);
    expect(text).toMatch(/AMS\s+in\s+1\s+100\.0%/);
    expect(text).toMatch(/DFW\s+out\s+2\s+100\.0%/);
  });

  it("says everywhere without a ring, and prints locations without a RING column", () => {
    const text = renderRollout(piped(), running(null), fleet(undefined));
    expect(text).toMatch(/ring\s+everywhere/);
    expect(text).toMatch(/everyone at/);
    expect(text).not.toMatch(/RING/);
    expect(text).toMatch(/AMS\s+1\s+100\.0%/);
  });
});
