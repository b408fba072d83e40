/** The console's server-drawn rollout chart (origin/console/chart.tsx): pure, so tested in Node. */
import { describe, expect, it } from "vitest";
import type { FleetDocument } from "../../../origin/console/api";
import { fleetCandidateShare, parseTrail, RolloutChart } from "../../../origin/console/chart";
import type { RolloutStatusDocument as RolloutStatus } from "../../../origin/contract";

const startedAt = Date.parse("2026-01-01T00:00:00Z");

function linear(overrides: Partial<RolloutStatus> = {}): RolloutStatus {
  return {
    key: "a/b",
    state: "running",
    live: { version: 2, etag: '"2"', publishedAt: null },
    stable: { version: 1 },
    candidate: { version: 2, etag: '"2"', publishedAt: null },
    mode: "linear",
    start: 10,
    step: 30,
    everySeconds: 60,
    percent: 10,
    share: 40,
    startedAt: new Date(startedAt).toISOString(),
    fullAt: new Date(startedAt + 180_000).toISOString(),
    endedAt: null,
    ...overrides,
  };
}

function fleet(versions: { version: number; clients: number }[]): FleetDocument {
  const clients = versions.reduce((n, v) => n + v.clients, 0);
  return {
    key: "a/b",
    window: 60,
    clients,
    versions,
    current: 1,
    converged: 0,
    rollout: null,
    locations: [],
    at: "",
  };
}

async function render(node: unknown): Promise<string> {
  return String(await Promise.resolve(String(node)));
}

describe("parseTrail", () => {
  it("reads epochSeconds:percent points", () => {
    expect(parseTrail("1700000000:0,1700000002:12.5")).toEqual([
      { atMs: 1_700_000_000_000, share: 0 },
      { atMs: 1_700_000_002_000, share: 12.5 },
    ]);
    expect(parseTrail(undefined)).toEqual([]);
  });

  it.each(["x", "1:101", "1:5,", "1:5.123", "-1:5", "1:5;2:6"])("refuses %s with invalid_request", (raw) => {
    expect(() => parseTrail(raw)).toThrowError(expect.objectContaining({ code: "invalid_request" }));
  });

  it("refuses more than 120 points", () => {
    const raw = Array.from({ length: 121 }, (_, i) => `${i}:1`).join(",");
    expect(() => parseTrail(raw)).toThrowError(expect.objectContaining({ code: "invalid_request" }));
  });
});

describe("fleetCandidateShare", () => {
  it("is the percent of seen clients on the candidate, null with none seen", () => {
    expect(
      fleetCandidateShare(
        fleet([
          { version: 2, clients: 1 },
          { version: 1, clients: 2 },
        ]),
        2,
      ),
    ).toBe(33.33);
    expect(fleetCandidateShare(fleet([]), 2)).toBeNull();
    expect(fleetCandidateShare(null, 2)).toBeNull();
  });
});

describe("RolloutChart", () => {
  it("draws the target solid up to now and dashed after, with the fleet dot at now", async () => {
    const now = startedAt + 90_000; // 1.5 steps in: 40 %
    const svg = await render(
      RolloutChart({
        rollout: linear(),
        fleet: fleet([
          { version: 2, clients: 1 },
          { version: 1, clients: 3 },
        ]),
        nowMs: now,
        trail: [],
      }),
    );
    expect(svg).toContain('data-target-share="40"');
    expect(svg).toContain('data-fleet-share="25"');
    const solid = /class="target" points="([^"]+)"/.exec(svg)?.[1]?.split(" ") ?? [];
    const dashed = /class="projection" points="([^"]+)"/.exec(svg)?.[1]?.split(" ") ?? [];
    const dotX = /<circle class="fleet" cx="([0-9.]+)"/.exec(svg)?.[1];
    expect(solid.at(-1)?.split(",")[0]).toBe(Number(dotX).toFixed(1));
    expect(dashed[0]).toBe(solid.at(-1));
    expect(svg).not.toContain("fleet-trail");
  });

  it("draws the trail of fleet shares the page saw, and nothing before the start", async () => {
    const now = startedAt + 30_000;
    const svg = await render(
      RolloutChart({
        rollout: linear(),
        fleet: fleet([{ version: 2, clients: 1 }]),
        nowMs: now,
        trail: [
          { atMs: startedAt - 5_000, share: 99 },
          { atMs: startedAt + 10_000, share: 0 },
          { atMs: startedAt + 20_000, share: 50 },
        ],
      }),
    );
    const trail = /class="fleet-line" points="([^"]+)"/.exec(svg)?.[1]?.split(" ") ?? [];
    expect(trail).toHaveLength(3); // two kept points and the dot now
  });

  it("draws no projection once the rollout has ended", async () => {
    const ended = linear({
      state: "aborted",
      endedAt: new Date(startedAt + 60_000).toISOString(),
      share: null,
    });
    const svg = await render(
      RolloutChart({ rollout: ended, fleet: null, nowMs: startedAt + 120_000, trail: [] }),
    );
    expect(svg).not.toContain('class="projection"');
    expect(svg).toContain(">ended<");
  });
});
