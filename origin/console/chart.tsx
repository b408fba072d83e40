/**
 * Server-drawn SVG for the rollout page: the rollout's target share over time (the same
 * step function the edge serves by, core shareAt) with its projection to 100 %, and the share of
 * the fleet seen holding the candidate now (the fleet view). The live fragment re-renders it, so
 * the dot climbs as clients converge and a linear rollout's line grows with the clock.
 */
import type { FC } from "hono/jsx";
import { FleetconfError, type RolloutHead, shareAt } from "../../core";
import type { RolloutStatusDocument as RolloutStatus } from "../contract";
import type { FleetDocument } from "./api";
import { MAX_TRAIL } from "./assets";

const W = 720;
const H = 260;
const PAD = { left: 44, right: 16, top: 14, bottom: 34 };
/** Beyond this many steps the line is drawn through sampled points, not every step. */
const MAX_POINTS = 240;

export interface ChartData {
  rollout: RolloutStatus;
  fleet: FleetDocument | null;
  nowMs: number;
  /** Earlier fleet shares the page saw, oldest first (from `?trail=`). */
  trail: TrailPoint[];
}

export interface TrailPoint {
  atMs: number;
  share: number;
}

/**
 * `?trail=<epochSeconds>:<percent>,…` as the live script sends it: at most MAX_TRAIL points,
 * each a whole second and a percent from 0 to 100 with at most two decimals. Anything else is a
 * 400, never silently dropped.
 */
export function parseTrail(raw: string | undefined): TrailPoint[] {
  if (raw === undefined || raw === "") return [];
  const parts = raw.split(",");
  if (parts.length > MAX_TRAIL) {
    throw new FleetconfError("invalid_request", `trail holds at most ${MAX_TRAIL} points.`);
  }
  return parts.map((part) => {
    const match = /^([0-9]{1,12}):([0-9]{1,3}(?:\.[0-9]{1,2})?)$/.exec(part);
    const share = Number(match?.[2]);
    if (!match || share > 100) {
      throw new FleetconfError("invalid_request", "trail points are <epochSeconds>:<percent 0-100>.");
    }
    return { atMs: Number(match[1]) * 1000, share };
  });
}

function headOf(r: RolloutStatus): RolloutHead | null {
  if (!r.candidate || !r.startedAt || !r.mode) return null;
  return {
    candidate: { version: r.candidate.version, etag: r.candidate.etag, publishedAt: 0 },
    mode: r.mode,
    percent: r.percent ?? 0,
    start: r.start ?? 0,
    step: r.step ?? 0,
    everySeconds: r.everySeconds && r.everySeconds > 0 ? r.everySeconds : 60,
    startedAt: Date.parse(r.startedAt),
  };
}

/** The share of fleet clients holding the candidate now, 0–100 (null when none were seen). */
export function fleetCandidateShare(fleet: FleetDocument | null, candidate: number): number | null {
  if (!fleet || fleet.clients === 0) return null;
  const on = fleet.versions.find((v) => v.version === candidate)?.clients ?? 0;
  return Math.round((on / fleet.clients) * 10_000) / 100;
}

export const RolloutChart: FC<ChartData> = ({ rollout, fleet, nowMs, trail }) => {
  const head = headOf(rollout);
  if (!head || !rollout.candidate) return <p class="muted">No rollout to chart.</p>;
  const t0 = head.startedAt;
  const ended = rollout.endedAt ? Date.parse(rollout.endedAt) : null;
  const until = ended ?? nowMs;
  const fullAt = rollout.fullAt ? Date.parse(rollout.fullAt) : null;
  const elapsed = Math.max(1000, until - t0);
  const t1 = Math.max(until + elapsed * 0.15, fullAt !== null && ended === null ? fullAt : 0, t0 + 60_000);
  const x = (t: number) => PAD.left + ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (p: number) => PAD.top + (1 - p / 100) * (H - PAD.top - PAD.bottom);

  // The step function as [time, share] corners, then split at `until`: solid before, dashed after.
  const corners: [number, number][] = [];
  if (head.mode === "linear") {
    const stepMs = head.everySeconds * 1000;
    const steps = Math.ceil((t1 - t0) / stepMs);
    const stride = Math.max(1, Math.ceil(steps / MAX_POINTS));
    for (let k = 0; k <= steps; k += stride) {
      const t = t0 + k * stepMs;
      const share = shareAt(head, t);
      corners.push([t, share], [Math.min(t + stride * stepMs, t1), share]);
    }
  } else {
    corners.push([t0, head.percent], [t1, head.percent]);
  }
  const point = ([t, p]: [number, number]) => `${x(t).toFixed(1)},${y(p).toFixed(1)}`;
  const target: string[] = [];
  const projection: string[] = [];
  for (let i = 0; i < corners.length; i++) {
    const corner = corners[i] as [number, number];
    const previous = corners[i - 1];
    if (corner[0] <= until) target.push(point(corner));
    else {
      if (previous && previous[0] <= until) {
        // Cut the segment that spans `until`, so the solid line ends exactly at now.
        const cut = point([until, previous[1]]);
        target.push(cut);
        if (ended === null) projection.push(cut);
      }
      if (ended === null) projection.push(point(corner));
    }
  }
  const targetNow = ended === null ? (rollout.share ?? shareAt(head, nowMs)) : null;
  const fleetShare = fleetCandidateShare(fleet, rollout.candidate.version);
  const seen = trail.filter((p) => p.atMs >= t0 && p.atMs <= until).map((p) => point([p.atMs, p.share]));
  if (seen.length > 0 && fleetShare !== null) seen.push(point([until, fleetShare]));
  const ticks = [0, 25, 50, 75, 100];
  const label = `Target share ${targetNow ?? "—"}%, fleet on v${rollout.candidate.version}: ${
    fleetShare === null ? "no clients seen" : `${fleetShare}%`
  }`;
  return (
    <figure>
      <svg
        class="chart"
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={label}
        data-testid="convergence-chart"
        data-target-share={targetNow === null ? "" : String(targetNow)}
        data-fleet-share={fleetShare === null ? "" : String(fleetShare)}
        data-fleet-clients={String(fleet?.clients ?? 0)}
      >
        <title>{label}</title>
        {ticks.map((p) => (
          <g>
            <line class="grid" x1={PAD.left} x2={W - PAD.right} y1={y(p)} y2={y(p)} />
            <text x={PAD.left - 6} y={y(p) + 4} text-anchor="end">
              {`${p}%`}
            </text>
          </g>
        ))}
        <text x={PAD.left} y={H - 10}>
          {new Date(t0).toISOString().slice(11, 19)}
        </text>
        <text x={W - PAD.right} y={H - 10} text-anchor="end">
          {new Date(t1).toISOString().slice(11, 19)}
        </text>
        <line class="now" x1={x(until)} x2={x(until)} y1={PAD.top} y2={H - PAD.bottom} />
        <text x={x(until)} y={H - 20} text-anchor="middle">
          {ended === null ? "now" : "ended"}
        </text>
        {target.length > 0 && <polyline class="target" points={target.join(" ")} />}
        {projection.length > 0 && <polyline class="projection" points={projection.join(" ")} />}
        {seen.length > 1 && <polyline class="fleet-line" points={seen.join(" ")} data-testid="fleet-trail" />}
        {fleetShare !== null && (
          <circle class="fleet" cx={x(until)} cy={y(fleetShare)} r="7" data-testid="fleet-dot" />
        )}
      </svg>
      <figcaption class="legend">
        <span>
          Solid line: target share of clients on v{rollout.candidate.version} (dashed: still to come)
        </span>
        <span>
          Green: share of the clients seen in the window that hold v{rollout.candidate.version} (dot: now;
          line: since this page opened)
        </span>
      </figcaption>
    </figure>
  );
};

/** Clients per version in the fleet view as horizontal bars, with applied/rejected when reported. */
export const VersionBars: FC<{ fleet: FleetDocument; candidate: number | null }> = ({ fleet, candidate }) => {
  if (fleet.versions.length === 0)
    return <p class="muted">No clients seen polling this key in the last {fleet.window} s.</p>;
  const rowH = 26;
  const height = fleet.versions.length * rowH + 8;
  const max = Math.max(1, ...fleet.versions.map((v) => v.clients));
  return (
    <svg
      class="bars"
      viewBox={`0 0 ${W} ${height}`}
      role="img"
      aria-label="Clients per version"
      data-testid="version-bars"
    >
      {fleet.versions.map((v, i) => (
        <g>
          <text x="0" y={i * rowH + 18}>{`v${v.version}`}</text>
          <rect
            class={`bar${v.version === candidate ? " candidate" : ""}`}
            x="60"
            y={i * rowH + 4}
            height={rowH - 8}
            width={Math.max(2, ((W - 200) * v.clients) / max)}
          />
          <text x={66 + Math.max(2, ((W - 200) * v.clients) / max)} y={i * rowH + 18}>
            {`${v.clients} client${v.clients === 1 ? "" : "s"}`}
          </text>
        </g>
      ))}
    </svg>
  );
};
