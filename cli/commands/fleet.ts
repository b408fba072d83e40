/** `fleetconf fleet KEY` and `fleetconf status`: the fleet convergence view and the origin's status. */
import { integerOption, stringOption } from "../args";
import { type Command, type CommandContext, keyArg, positional } from "../command";
import { type FleetDocument, readFleet, readStatus } from "../fleet-api";
import { type Output, table } from "../output";

export const fleetCommand: Command = {
  name: "fleet",
  summary: "Show which versions the clients polling a key hold, and how far they converged",
  usage: "fleet KEY [--window SECONDS] [--json]",
  help: `Counts the clients (by Config-Client-Id) seen polling KEY at the edge within the window, per
version, and the share holding the version meant for them (during a rollout: the candidate for
its cohort, the stable version for the rest). Sightings reach the origin every few seconds.

Options:
  --window SECONDS   how far back a client counts (1–86400, default 300)

Examples:
  fleetconf fleet payments/prod/flags
  fleetconf fleet payments/prod/flags --window 60 --json`,
  options: { window: { type: "string" } },
  positionals: { min: 1, max: 1 },
  async run(ctx: CommandContext) {
    const key = keyArg(positional(ctx, 0), "fleet");
    const window = integerOption(ctx.values, "window", { min: 1, max: 86_400 }, "fleet");
    const view = await readFleet(await ctx.api(), key, window);
    ctx.out.result(view, renderFleet(ctx.out, view));
    return 0;
  },
};

const percent = (share: number) => `${(share * 100).toFixed(1)}%`;

/**
 * The per-location table of a fleet view; during a rollout with a ring, a RING column says
 * whether its share applies there (docs/rollouts.md, "Rings: one location first").
 */
export function locationTable(out: Output, view: FleetDocument): string {
  const ringed = view.locations.some((l) => l.inRing !== undefined);
  const rows = [["LOCATION", ...(ringed ? ["RING"] : []), "CLIENTS", "CONVERGED", "APPLIED", "REJECTED"]];
  for (const l of view.locations) {
    const ring = ringed ? [l.inRing ? out.paint.cyan("in") : "out"] : [];
    rows.push([
      l.colo,
      ...ring,
      String(l.clients),
      percent(l.converged),
      String(l.applied),
      String(l.rejected),
    ]);
  }
  return table(rows);
}

export function renderFleet(out: Output, view: FleetDocument): string {
  const p = out.paint;
  const lines = [
    `${p.bold(view.key)}: ${view.clients} client${view.clients === 1 ? "" : "s"} in the last ${view.window}s, ` +
      `${percent(view.converged)} converged on ${p.bold(`v${view.current}`)}` +
      (view.rollout
        ? ` (rollout: v${view.rollout.candidate} to ${view.rollout.share}% of clients, v${view.rollout.stable} to the rest)`
        : ""),
  ];
  if (view.versions.length > 0) {
    // APPLIED / REJECTED: clients whose Config-Client-Status names the version (docs/rollouts.md).
    const rows = [["VERSION", "CLIENTS", "SHARE", "APPLIED", "REJECTED"]];
    for (const v of view.versions) {
      rows.push([
        `v${v.version}`,
        String(v.clients),
        percent(v.clients / Math.max(1, view.clients)),
        String(v.applied),
        v.rejected > 0 ? p.red(String(v.rejected)) : "0",
      ]);
    }
    lines.push("", table(rows));
  }
  if (view.rollout) {
    const { cohorts, candidate, stable } = view.rollout;
    const rows = [["COHORT", "CLIENTS", "CONVERGED", "APPLIED", "REJECTED"]];
    for (const [name, c] of [
      [`candidate v${candidate}`, cohorts.candidate],
      [`stable v${stable}`, cohorts.stable],
    ] as const) {
      rows.push([name, String(c.clients), percent(c.converged), String(c.applied), String(c.rejected)]);
    }
    lines.push("", table(rows));
  }
  const ringed = view.locations.some((l) => l.inRing !== undefined);
  if (view.locations.length > 1 || (ringed && view.locations.length > 0))
    lines.push("", locationTable(out, view));
  return lines.join("\n");
}

export const statusCommand: Command = {
  name: "status",
  summary: "Show every namespace's keys, rollouts, pending distribution and recent errors",
  usage: "status [--namespace NS] [--json]",
  help: `Asks the origin for its status (GET /v1/status): per namespace the keys and live versions,
rollouts in progress, changes not yet distributed to KV and the edge, the last publish and the
recent distribution errors. Needs an admin token, or read:NS with --namespace NS.`,
  options: { namespace: { type: "string" } },
  positionals: { min: 0, max: 0 },
  async run(ctx: CommandContext) {
    const status = await readStatus(await ctx.api(), stringOption(ctx.values, "namespace"));
    ctx.out.result(status, renderStatus(status));
    return 0;
  },
};

export function renderStatus(status: Record<string, unknown>): string {
  const namespaces = Array.isArray(status.namespaces) ? (status.namespaces as Record<string, unknown>[]) : [];
  const rows = [["NAMESPACE", "KEYS", "ROLLOUTS", "PENDING", "DRAIN FAILURES", "LAST PUBLISH"]];
  for (const ns of namespaces) {
    const keys = Array.isArray(ns.keys) ? ns.keys.length : 0;
    const count = (name: string) => String(Array.isArray(ns[name]) ? (ns[name] as unknown[]).length : 0);
    const last = ns.lastPublish as { key?: string; version?: number; at?: string } | null;
    rows.push([
      String(ns.namespace),
      String(keys),
      count("rollouts"),
      count("pending"),
      String(ns.drainFailures ?? 0),
      last ? `${last.key} v${last.version} at ${last.at}` : "-",
    ]);
  }
  return namespaces.length === 0 ? "no namespaces yet" : table(rows);
}
