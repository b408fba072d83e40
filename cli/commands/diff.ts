/** `fleetconf diff KEY A B`: what changed between two versions, structurally. */
import { diffJson, type JsonValue, toJsonPatch } from "../../core/json-diff";
import type { AdminApi } from "../admin-api";
import { parseVersionArg } from "../args";
import { type Command, type CommandContext, keyArg, positional } from "../command";
import { renderChanges, summarise } from "../diff-render";

const NAME = "diff";

export const diffCommand: Command = {
  name: NAME,
  summary: "Show what changed between two versions (structural JSON diff)",
  usage: "diff KEY A B",
  help: `A and B are version numbers, or "current" for the live version. Prints one line per change,
addressed by JSON Pointer: + added, - removed, ~ changed. Arrays are aligned, so an inserted
element shows as one addition.

With --json: the RFC 6902 JSON Patch that turns A into B, computed locally.

Example:
  fleetconf diff payments/prod/flags 3 current`,
  options: {},
  positionals: { min: 3, max: 3 },
  async run(ctx: CommandContext) {
    const key = keyArg(positional(ctx, 0), NAME);
    const api = await ctx.api();
    const [a, b] = await Promise.all([
      resolve(api, key, positional(ctx, 1)),
      resolve(api, key, positional(ctx, 2)),
    ]);
    const [before, after] = await Promise.all([content(api, key, a), content(api, key, b)]);
    const changes = diffJson(before, after);
    const p = ctx.out.paint;
    const header = `${p.bold(key)} ${p.cyan(`v${a}`)} → ${p.cyan(`v${b}`)}: ${summarise(changes)}`;
    ctx.out.result(toJsonPatch(changes), `${header}\n${renderChanges(changes, p)}`);
    return 0;
  },
};

async function resolve(api: AdminApi, key: string, raw: string): Promise<number> {
  if (raw === "current") return (await api.current(key)).version;
  return parseVersionArg(raw, "a version", NAME);
}

async function content(api: AdminApi, key: string, version: number): Promise<JsonValue> {
  return (await api.version(key, version)).content as JsonValue;
}
