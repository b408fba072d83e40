/**
 * `fleetconf rollout start|status|set|complete|abort`: staged rollouts (docs/rollouts.md). A
 * candidate goes to a share of clients, chosen per `Config-Client-Id` at the edge; the share only
 * grows; `complete` gives it to everyone, `abort` publishes the stable content as a new version.
 */
import { parseRingCodes, ringOf, ringParams } from "../../core/rings";
import { parseRolloutHeader } from "../../core/rollout";
import { isHeld } from "../admin-api";
import { flag, parseDuration, stringOption } from "../args";
import { finishRollout, rolloutStatus, startRollout, updateRollout } from "../change-control-api";
import { type Command, type CommandContext, keyArg, positional } from "../command";
import { UsageError } from "../errors";
import { readFleet } from "../fleet-api";
import { reportHeld } from "./changes";
import { readDocument } from "./publish";
import { renderRollout } from "./rollout-render";

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

const RING_OPTIONS = { colos: { type: "string" }, continents: { type: "string" } } as const;

/** `--colos AMS,FRA` / `--continents EU`: comma-separated codes, checked as core/rings.ts does. */
function ringCodesOption(
  raw: string | undefined,
  kind: "colos" | "continents",
  command: string,
): string[] | undefined {
  if (raw === undefined) return undefined;
  const codes = raw
    .split(",")
    .map((code) => code.trim().toUpperCase())
    .filter(Boolean);
  if (codes.length === 0)
    throw new UsageError(`--${kind} takes codes separated by commas, e.g. AMS,FRA`, command);
  const parsed = parseRingCodes(kind, codes);
  if (!parsed.ok) throw new UsageError(`--${kind}: ${parsed.reason}`, command);
  return parsed.value;
}

function ringCodes(ctx: CommandContext, command: string) {
  return {
    colos: ringCodesOption(stringOption(ctx.values, "colos"), "colos", command),
    continents: ringCodesOption(stringOption(ctx.values, "continents"), "continents", command),
  };
}

export const rolloutStartCommand: Command = {
  name: "rollout start",
  summary: "Publish a candidate to a share of clients (staged rollout)",
  usage:
    "rollout start KEY FILE|- (--percent N | --linear START,STEP,EVERY) [--colos A,B] [--continents EU] [--if-match ETAG] [-m MESSAGE]",
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
  --colos AMS,FRA             a ring: the share applies only at these Cloudflare colos (IATA codes)
  --continents EU,NA          ... and/or on these continents (AF AN AS EU NA OC SA); elsewhere
                              every client keeps the current version (docs/rollouts.md, "Rings")
  --if-match ETAG             only if the current version still has this ETag
  -m, --message TEXT          a note for the audit log and history

Then: fleetconf rollout status KEY, rollout set KEY --percent N, rollout complete KEY, rollout abort KEY.

Examples:
  fleetconf rollout start payments/prod/flags flags.json --percent 5 -m "canary"
  fleetconf rollout start payments/prod/flags flags.json --linear 10,10,5m
  fleetconf rollout start payments/prod/flags flags.json --percent 30 --max-rejected 10 --bake 10m
  fleetconf rollout start payments/prod/flags flags.json --percent 100 --colos AMS`,
  options: {
    percent: { type: "string" },
    linear: { type: "string" },
    "max-rejected": { type: "string" },
    "min-clients": { type: "string" },
    bake: { type: "string" },
    ...RING_OPTIONS,
    "if-match": { type: "string" },
    ...MESSAGE_OPTION,
  },
  positionals: { min: 2, max: 2 },
  async run(ctx: CommandContext) {
    const name = "rollout start";
    const key = keyArg(positional(ctx, 0), name);
    const ring = ringCodes(ctx, name);
    const header =
      withGates(
        rolloutHeaderFrom(stringOption(ctx.values, "percent"), stringOption(ctx.values, "linear"), name),
        {
          maxRejected: stringOption(ctx.values, "max-rejected"),
          minClients: stringOption(ctx.values, "min-clients"),
          bake: stringOption(ctx.values, "bake"),
        },
        name,
      ) + ringParams(ringOf(ring.colos ?? [], ring.continents ?? []));
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
  summary: "Show a key's rollout: candidate, share now, ring, who started it, the fleet per location",
  usage: "rollout status KEY",
  help: `Shows the running rollout with its share now and its ring, or the last one and how it ended.
While it runs, also the fleet view per location (GET …/-/fleet): clients seen, the share converged
on the version meant for them and, with a ring, whether the share applies there; with --json,
under "fleet".`,
  options: {},
  positionals: { min: 1, max: 1 },
  async run(ctx: CommandContext) {
    const key = keyArg(positional(ctx, 0), "rollout status");
    const api = await ctx.api();
    const status = await rolloutStatus(api, key);
    const fleet = status.state === "running" ? await readFleet(api, key) : null;
    ctx.out.result(fleet ? { ...status, fleet } : status, renderRollout(ctx.out, status, fleet));
    return 0;
  },
};

export const rolloutSetCommand: Command = {
  name: "rollout set",
  summary: "Hold a running rollout at a share (never lower) and/or widen its ring",
  usage: "rollout set KEY [--percent N] [--colos A,B] [--continents EU] [--everywhere] [-m MESSAGE]",
  help: `Switches the running rollout to a fixed share of N%, and/or widens its ring. Neither can shrink:
clients already on the candidate would go back to the stable version (the origin answers 409).

Options:
  --percent N          a fixed share from now on, not below the share now
  --colos A,B          the ring's colos after the change: keep the current ones, add new ones
  --continents EU,NA   the ring's continents after the change, likewise
  --everywhere         drop the ring: the share applies in every location

To back out, use \`fleetconf rollout abort KEY\`.

Examples:
  fleetconf rollout set payments/prod/flags --percent 50
  fleetconf rollout set payments/prod/flags --colos AMS --continents EU
  fleetconf rollout set payments/prod/flags --everywhere`,
  options: {
    percent: { type: "string" },
    ...RING_OPTIONS,
    everywhere: { type: "boolean" },
    ...MESSAGE_OPTION,
  },
  positionals: { min: 1, max: 1 },
  async run(ctx: CommandContext) {
    const name = "rollout set";
    const key = keyArg(positional(ctx, 0), name);
    const rawPercent = stringOption(ctx.values, "percent");
    const { colos, continents } = ringCodes(ctx, name);
    const everywhere = flag(ctx.values, "everywhere");
    if (everywhere && (colos || continents))
      throw new UsageError("--everywhere drops the ring: give it without --colos and --continents", name);
    if (rawPercent === undefined && !everywhere && !colos && !continents)
      throw new UsageError("give --percent N, --colos/--continents or --everywhere", name);
    const patch = {
      ...(rawPercent === undefined ? {} : { percent: percentOption(rawPercent, name) }),
      ...(colos ? { colos } : {}),
      ...(continents ? { continents } : {}),
      ...(everywhere ? { ring: null } : {}),
    };
    const status = await updateRollout(await ctx.api(), key, patch, stringOption(ctx.values, "message"));
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
