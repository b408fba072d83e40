/** `fleetconf diff KEY A B`: what changed between two versions, structurally. */
import { diffJson, type JsonChange, type JsonValue, toJsonPatch } from "../../core/json-diff";
import type { AdminApi } from "../admin-api";
import { parseVersionArg } from "../args";
import { originDiff, rolloutStatus } from "../change-control-api";
import { type Command, type CommandContext, keyArg, positional } from "../command";
import { renderChanges, summarise } from "../diff-render";
import { CliError } from "../errors";

const NAME = "diff";

export const diffCommand: Command = {
  name: NAME,
  summary: "Show what changed between two versions (structural JSON diff)",
  usage: "diff KEY A B",
  help: `A and B are version numbers, "current" for the live version, or "candidate" for a running
rollout's candidate. Prints one line per change, addressed by JSON Pointer: + added, - removed,
~ changed. Arrays are aligned, so an inserted element shows as one addition.

The origin computes the diff (GET /v1/configs/KEY/diff); with an origin that lacks that route the
CLI fetches both versions and computes it locally, with the same result.

With --json: the RFC 6902 JSON Patch that turns A into B.

Example:
  fleetconf diff payments/prod/flags 3 current`,
  options: {},
  positionals: { min: 3, max: 3 },
  async run(ctx: CommandContext) {
    const key = keyArg(positional(ctx, 0), NAME);
    const refs = [positional(ctx, 1), positional(ctx, 2)] as const;
    for (const ref of refs)
      if (ref !== "current" && ref !== "candidate") parseVersionArg(ref, "a version", NAME);
    const api = await ctx.api();
    const { a, b, changes } =
      (await fromOrigin(api, key, refs[0], refs[1])) ?? (await locally(api, key, refs[0], refs[1]));
    const p = ctx.out.paint;
    const header = `${p.bold(key)} ${p.cyan(`v${a}`)} → ${p.cyan(`v${b}`)}: ${summarise(changes)}`;
    ctx.out.result(toJsonPatch(changes), `${header}\n${renderChanges(changes, p)}`);
    return 0;
  },
};

type Diff = { a: number; b: number; changes: JsonChange[] };

async function fromOrigin(api: AdminApi, key: string, from: string, to: string): Promise<Diff | null> {
  const diff = await originDiff(api, key, from, to);
  return diff === null ? null : { a: diff.from, b: diff.to, changes: diff.changes };
}

/** Fetches both versions and diffs them here (origins without the diff route, or its errors). */
async function locally(api: AdminApi, key: string, from: string, to: string): Promise<Diff> {
  const [a, b] = await Promise.all([resolve(api, key, from), resolve(api, key, to)]);
  const [before, after] = await Promise.all([content(api, key, a), content(api, key, b)]);
  return { a, b, changes: diffJson(before, after) };
}

async function resolve(api: AdminApi, key: string, raw: string): Promise<number> {
  if (raw === "current") return (await api.current(key)).version;
  if (raw === "candidate") {
    const status = await rolloutStatus(api, key);
    if (status.state !== "running" || !status.candidate) {
      throw new CliError(`no rollout is running for ${key}, so there is no candidate`, {
        code: "no_rollout",
      });
    }
    return status.candidate.version;
  }
  return parseVersionArg(raw, "a version", NAME);
}

async function content(api: AdminApi, key: string, version: number): Promise<JsonValue> {
  return (await api.version(key, version)).content as JsonValue;
}
