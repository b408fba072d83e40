/**
 * How `fleetconf rollout …` prints a rollout document (docs/rollouts.md): the schedule, the ring,
 * the health gates, how it ended and, while it runs, the fleet per location so an operator sees a
 * ring's locations converge.
 */
import { describeRing } from "../../core/rings";
import type { RolloutStatus } from "../change-control-api";
import type { FleetDocument } from "../fleet-api";
import { formatTime, type Output, table } from "../output";
import { locationTable } from "./fleet";

function seconds(total: number): string {
  for (const [unit, size] of [
    ["d", 86_400],
    ["h", 3600],
    ["m", 60],
  ] as const) {
    if (total >= size && total % size === 0) return `${total / size}${unit}`;
  }
  return `${total}s`;
}

/** How the share is set, in words: "fixed at 30%" or "10% + 10% every 1m". */
function scheme(status: RolloutStatus): string {
  if (status.mode === "linear")
    return `${status.start}% + ${status.step}% every ${seconds(status.everySeconds ?? 0)}`;
  return `fixed at ${status.percent}%`;
}

/** The rollout document as a table, then (when given) the fleet view's per-location table. */
export function renderRollout(out: Output, status: RolloutStatus, fleet?: FleetDocument | null): string {
  const p = out.paint;
  if (status.state === "none" || !status.candidate) {
    return `${p.bold(status.key)}: no rollout; everyone gets ${p.bold(`v${status.live.version}`)}`;
  }
  const state =
    status.state === "running"
      ? p.cyan("running")
      : status.state === "completed"
        ? p.green("completed")
        : p.yellow("aborted");
  const rows = [
    [p.bold("key"), status.key],
    [p.bold("state"), state],
    [p.bold("stable"), `v${status.stable?.version ?? "?"}`],
    [p.bold("candidate"), `v${status.candidate.version}  ${p.dim(status.candidate.etag)}`],
    [p.bold("share"), scheme(status)],
    [p.bold("ring"), status.ring ? describeRing(status.ring) : "everywhere"],
  ];
  if (status.state === "running") {
    rows.push([p.bold("share now"), p.bold(`${status.share ?? 0}%`)]);
    // With a ring the share reaches 100% of the ring's clients only; elsewhere nobody moves.
    if (status.fullAt)
      rows.push([p.bold(status.ring ? "whole ring at" : "everyone at"), formatTime(status.fullAt)]);
  }
  const gates = status.gates;
  if (gates) {
    const parts = [
      gates.maxRejected === null
        ? null
        : `abort above ${gates.maxRejected}% rejected of ≥ ${gates.minClients} reporting`,
      gates.bakeSeconds > 0 ? `bake ${seconds(gates.bakeSeconds)}` : null,
    ].filter((x) => x !== null);
    rows.push([p.bold("gates"), parts.join("; ")]);
  }
  rows.push([p.bold("started"), `${formatTime(status.startedAt ?? "")} by ${status.startedBy ?? "?"}`]);
  if (status.message) rows.push([p.bold("message"), status.message]);
  if (status.state !== "running") {
    rows.push([p.bold("ended"), `${formatTime(status.endedAt ?? "")} by ${status.endedBy ?? "?"}`]);
    rows.push([p.bold("everyone now"), `v${status.resultVersion ?? status.live.version}`]);
    const auto = status.autoAbort;
    if (auto) {
      const why =
        auto.trigger === "alarm"
          ? `alarm ${auto.alarm?.name ?? "external"}${auto.alarm?.detail ? `: ${auto.alarm.detail}` : ""}`
          : `${auto.rejected} of ${auto.reporting} reporting clients (${auto.rejectedPercent}%) rejected v${status.candidate.version}, above max-rejected=${auto.maxRejected}%`;
      rows.push([p.bold("aborted by"), p.red(why)]);
      if (auto.reasons.length > 0)
        rows.push([p.bold("reasons"), auto.reasons.map((r) => `${r.reason} (${r.clients})`).join(", ")]);
    }
  }
  const text = table(rows);
  if (!fleet || fleet.locations.length === 0) return text;
  const seen = `${fleet.clients} client${fleet.clients === 1 ? "" : "s"} in the last ${fleet.window}s`;
  return `${text}\n\n${p.bold("fleet")} ${seen}, ${(fleet.converged * 100).toFixed(1)}% converged\n${locationTable(out, fleet)}`;
}
