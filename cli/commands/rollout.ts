/**
 * `fleetconf rollout start|status|set|complete|abort`: staged rollouts (docs/rollouts.md). A
 * candidate goes to a share of clients, chosen per `Config-Client-Id` at the edge; the share only
 * grows; `complete` gives it to everyone, `abort` publishes the stable content as a new version.
 */
import { parseRolloutHeader } from "../../core/rollout";
import { isHeld } from "../admin-api";
import { parseDuration, stringOption } from "../args";
import {
  finishRollout,
  type RolloutStatus,
  rolloutStatus,
  setRolloutPercent,
  startRollout,
} from "../change-control-api";
import { type Command, type CommandContext, keyArg, positional } from "../command";
import { UsageError } from "../errors";
import { formatTime, type Output, table } from "../output";
import { reportHeld } from "./changes";
import { readDocument } from "./publish";

const PERCENT = /^(100(\.0{1,2})?|[0-9]{1,2}(\.[0-9]{1,2})?)$/;
const MESSAGE_OPTION = { message: { type: "string", short: "m" } } as const;

function percentOption(raw: string | undefined, command: string): number {
  if (raw === undefined || !PERCENT.test(raw)) {
    throw new UsageError("--percent must be a number from 0 to 100 with at most two decimals", command);
  }
  return Number(raw);
}

/** `--percent N` or `--linear START,STEP,EVERY` as the Config-Rollout header value. */
export function rolloutHeaderFrom(
  percent: string | undefined,
  linear: string | undefined,
  command: string,
): string {
  if ((percent === undefined) === (linear === undefined)) {
    throw new UsageError("give exactly one of --percent N and --linear START,STEP,EVERY", command);
  }
  if (percent !== undefined) return String(percentOption(percent, command));
  const [start, step, every, ...rest] = (linear ?? "").split(",").map((part) => part.trim());
  if (start === undefined || step === undefined || every === undefined || rest.length > 0) {
    throw new UsageError("--linear takes START,STEP,EVERY, e.g. 10,10,5m", command);
  }
  const header = `linear; start=${start}; step=${step}; every=${parseDuration(every, "EVERY", command)}`;
  const parsed = parseRolloutHeader(header);
  if (!parsed.ok) throw new UsageError(`--linear ${linear}: ${parsed.reason}`, command);
  return header;
}

/** Appends `--max-rejected/--min-clients/--bake` as Config-Rollout's health-gate parameters. */
export function withGates(
  header: string,
  gates: { maxRejected?: string | undefined; minClients?: string | undefined; bake?: string | undefined },
  command: string,
): string {
  const params: string[] = [];
  if (gates.maxRejected !== undefined) params.push(`max-rejected=${gates.maxRejected}`);
  if (gates.minClients !== undefined) params.push(`min-clients=${gates.minClients}`);
  if (gates.bake !== undefined) params.push(`bake=${parseDuration(gates.bake, "--bake", command)}`);
  if (params.length === 0) return header;
  const full = `${header}; ${params.join("; ")}`;
  const parsed = parseRolloutHeader(full);
  if (!parsed.ok) throw new UsageError(`health gates: ${parsed.reason}`, command);
  return full;
}

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

export function renderRollout(out: Output, status: RolloutStatus): string {
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
  ];
  if (status.state === "running") {
    rows.push([p.bold("share now"), p.bold(`${status.share ?? 0}%`)]);
    if (status.fullAt) rows.push([p.bold("everyone at"), formatTime(status.fullAt)]);
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
  return table(rows);
}

export const rolloutStartCommand: Command = {
  name: "rollout start",
  summary: "Publish a candidate to a share of clients (staged rollout)",
  usage: "rollout start KEY FILE|- (--percent N | --linear START,STEP,EVERY) [--if-match ETAG] [-m MESSAGE]",
  help: `Publishes FILE (or stdin with "-") as a candidate version served to a share of clients; the others
keep the current version. Clients are chosen by their Config-Client-Id, the same ones every time, and a
client given the candidate keeps it as the share grows. Clients without an id get the candidate only at
100%. One rollout per key at a time: publishing during one is refused (409).

Options:
  --percent N                 a fixed share, 0-100 (two decimals at most)
  --linear START,STEP,EVERY   START% now, STEP% more every EVERY (seconds, or 30s, 5m, 1h, 1d)
  --max-rejected P            abort by itself when more than P% of the clients reporting on the
                              candidate rejected it (Config-Client-Status; docs/rollouts.md)
  --min-clients N             ... once at least N clients report (default 10)
  --bake S                    refuse to complete before S seconds (or 30s, 5m, 1h)
  --if-match ETAG             only if the current version still has this ETag
  -m, --message TEXT          a note for the audit log and history

Then: fleetconf rollout status KEY, rollout set KEY --percent N, rollout complete KEY, rollout abort KEY.

Examples:
  fleetconf rollout start payments/prod/flags flags.json --percent 5 -m "canary"
  fleetconf rollout start payments/prod/flags flags.json --linear 10,10,5m
  fleetconf rollout start payments/prod/flags flags.json --percent 30 --max-rejected 10 --bake 10m`,
  options: {
    percent: { type: "string" },
    linear: { type: "string" },
    "max-rejected": { type: "string" },
    "min-clients": { type: "string" },
    bake: { type: "string" },
    "if-match": { type: "string" },
    ...MESSAGE_OPTION,
  },
  positionals: { min: 2, max: 2 },
  async run(ctx: CommandContext) {
    const name = "rollout start";
    const key = keyArg(positional(ctx, 0), name);
    const header = withGates(
      rolloutHeaderFrom(stringOption(ctx.values, "percent"), stringOption(ctx.values, "linear"), name),
      {
        maxRejected: stringOption(ctx.values, "max-rejected"),
        minClients: stringOption(ctx.values, "min-clients"),
        bake: stringOption(ctx.values, "bake"),
      },
      name,
    );
    const body = await readDocument(positional(ctx, 1), ctx.io, ctx.out);
    const ifMatch = stringOption(ctx.values, "if-match");
    const message = stringOption(ctx.values, "message");
    const started = await startRollout(await ctx.api(), key, body, header, {
      ...(ifMatch ? { ifMatch } : {}),
      ...(message ? { message } : {}),
    });
    if (isHeld(started)) return reportHeld(ctx.out, started);
    const p = ctx.out.paint;
    const { write, rollout } = started;
    const human =
      rollout === null
        ? `${p.yellow("=")} ${key} unchanged: the document equals the current ${p.bold(`v${write.version}`)}; no rollout started`
        : `${p.green("✔")} rollout of ${key} ${p.bold(`v${write.version}`)} ${write.created ? "started" : "already running"} over v${rollout.stable?.version}: ${p.bold(`${rollout.share ?? 0}%`)} of clients now\n${renderRollout(ctx.out, rollout)}`;
    ctx.out.result({ ...write, key, rollout }, human);
    return 0;
  },
};

export const rolloutStatusCommand: Command = {
  name: "rollout status",
  summary: "Show a key's rollout: candidate, share now, who started it",
  usage: "rollout status KEY",
  help: "Shows the running rollout with its share now, or the last one and how it ended.",
  options: {},
  positionals: { min: 1, max: 1 },
  async run(ctx: CommandContext) {
    const key = keyArg(positional(ctx, 0), "rollout status");
    const status = await rolloutStatus(await ctx.api(), key);
    ctx.out.result(status, renderRollout(ctx.out, status));
    return 0;
  },
};

export const rolloutSetCommand: Command = {
  name: "rollout set",
  summary: "Hold a running rollout at a share (never below the share now)",
  usage: "rollout set KEY --percent N [-m MESSAGE]",
  help: `Switches the running rollout to a fixed share of N%. The share cannot go down: clients already on
the candidate would go back to the stable version. To back out, use \`fleetconf rollout abort KEY\`.`,
  options: { percent: { type: "string" }, ...MESSAGE_OPTION },
  positionals: { min: 1, max: 1 },
  async run(ctx: CommandContext) {
    const name = "rollout set";
    const key = keyArg(positional(ctx, 0), name);
    const percent = percentOption(stringOption(ctx.values, "percent"), name);
    const status = await setRolloutPercent(
      await ctx.api(),
      key,
      percent,
      stringOption(ctx.values, "message"),
    );
    ctx.out.result(status, renderRollout(ctx.out, status));
    return 0;
  },
};

function finishCommand(how: "complete" | "abort"): Command {
  const name = `rollout ${how}`;
  return {
    name,
    summary:
      how === "complete"
        ? "Make a rollout's candidate the version everyone gets"
        : "Stop a rollout: everyone gets the stable content as a new version",
    usage: `${name} KEY [-m MESSAGE]`,
    help:
      how === "complete"
        ? "Ends the running rollout: its candidate becomes the key's live version for every client."
        : `Ends the running rollout by publishing the stable version's content as a new version, numbered
above the candidate, so no client's version number ever goes down.`,
    options: { ...MESSAGE_OPTION },
    positionals: { min: 1, max: 1 },
    async run(ctx: CommandContext) {
      const key = keyArg(positional(ctx, 0), name);
      const status = await finishRollout(await ctx.api(), key, how, stringOption(ctx.values, "message"));
      ctx.out.result(status, renderRollout(ctx.out, status));
      return 0;
    },
  };
}

export const rolloutCompleteCommand = finishCommand("complete");
export const rolloutAbortCommand = finishCommand("abort");
