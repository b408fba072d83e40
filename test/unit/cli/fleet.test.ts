/** `fleetconf fleet`, `status` and `publish --wait`: parsing the target and printing the views. */
import { describe, expect, it } from "vitest";
import { renderFleet, renderStatus } from "../../../cli/commands/fleet";
import { CliError, UsageError } from "../../../cli/errors";
import { parseFleet } from "../../../cli/fleet-api";
import { parseWaitTarget } from "../../../cli/wait-convergence";
import { pipedOutput } from "./support/piped-output";

const piped = pipedOutput;

describe("publish --wait target", () => {
  it.each([
    ["95%", 0.95],
    ["95", 0.95],
    ["0.95", 0.95],
    ["100%", 1],
    ["1", 1],
    ["99.5%", 0.995],
    [" 50% ", 0.5],
  ])("reads %j as %d", (raw, share) => {
    expect(parseWaitTarget(raw, "publish")).toBeCloseTo(share, 10);
  });

  it.each(["0", "0%", "101%", "150", "-5%", "abc", "", "95%%", "1e2"])(
    "refuses %j with a usage error",
    (raw) => {
      expect(() => parseWaitTarget(raw, "publish")).toThrow(UsageError);
    },
  );
});

const view = {
  key: "payments/prod/flags",
  at: "2026-12-01T00:00:00.000Z",
  window: 300,
  clients: 200,
  versions: [
    { version: 4, clients: 150, applied: 140, rejected: 6 },
    { version: 3, clients: 50, applied: 50, rejected: 0 },
  ],
  current: 4,
  converged: 0.75,
  rollout: null,
  locations: [
    { colo: "AMS", clients: 120, converged: 0.8, applied: 110, rejected: 6 },
    { colo: "LHR", clients: 80, converged: 0.675, applied: 80, rejected: 0 },
  ],
};

describe("fleet view", () => {
  it("prints the summary, one row per version with its share, and locations when there are several", () => {
    const text = renderFleet(piped(), parseFleet(view));
    expect(text).toContain("payments/prod/flags: 200 clients in the last 300s, 75.0% converged on v4");
    expect(text).toMatch(/v4\s+150\s+75\.0%\s+140\s+6/);
    expect(text).toMatch(/v3\s+50\s+25\.0%\s+50\s+0/);
    expect(text).toMatch(/AMS\s+120\s+80\.0%\s+110\s+6/);
    expect(text).toMatch(/LHR\s+80\s+67\.5%/);
    expect(text).not.toContain("\u001b[");
  });

  it("names the rollout's versions and leaves out a single location", () => {
    const text = renderFleet(
      piped(),
      parseFleet({
        ...view,
        rollout: {
          candidate: 5,
          stable: 4,
          share: 30,
          cohorts: {
            candidate: { clients: 60, converged: 0.9, applied: 50, rejected: 4 },
            stable: { clients: 140, converged: 1, applied: 140, rejected: 0 },
          },
        },
        locations: [{ colo: "AMS", clients: 200, converged: 0.75, applied: 190, rejected: 4 }],
      }),
    );
    expect(text).toContain("(rollout: v5 to 30% of clients, v4 to the rest)");
    expect(text).toMatch(/candidate v5\s+60\s+90\.0%\s+50\s+4/);
    expect(text).not.toContain("LOCATION");
  });

  it("says 1 client, singular, and prints no table for nobody", () => {
    expect(
      renderFleet(
        piped(),
        parseFleet({ ...view, clients: 1, versions: [{ version: 4, clients: 1, applied: 1, rejected: 0 }] }),
      ),
    ).toContain(": 1 client in");
    expect(
      renderFleet(piped(), parseFleet({ ...view, clients: 0, versions: [], locations: [] })),
    ).not.toContain("VERSION");
  });

  it("refuses an answer without the numbers it needs, as a CLI error", () => {
    expect(() => parseFleet({ ...view, clients: "many" })).toThrow(CliError);
    expect(() => parseFleet({ ...view, versions: null })).toThrow(CliError);
  });
});

describe("status", () => {
  it("prints one row per namespace with its counts and last publish", () => {
    const text = renderStatus({
      namespaces: [
        {
          namespace: "payments",
          keys: [{}, {}, {}],
          rollouts: [{}],
          pending: [],
          drainFailures: 2,
          lastPublish: { key: "payments/prod/flags", version: 4, at: "2026-11-30T18:00:00.000Z" },
        },
        { namespace: "search", keys: [], rollouts: [], pending: [{}], lastPublish: null },
      ],
    });
    expect(text).toMatch(/payments\s+3\s+1\s+0\s+2\s+payments\/prod\/flags v4 at 2026-11-30T18:00:00.000Z/);
    expect(text).toMatch(/search\s+0\s+0\s+1\s+0\s+-/);
  });

  it("says so when there are no namespaces", () => {
    expect(renderStatus({ namespaces: [] })).toBe("no namespaces yet");
  });
});
