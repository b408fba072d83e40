/** Read-only admin commands: `get` (current content), `history` (versions) and `show` (one version). */

import type { VersionItem } from "../admin-api";
import { flag, integerOption, parseVersionArg } from "../args";
import { type Command, type CommandContext, keyArg, positional } from "../command";
import { formatBytes, formatTime, type Output, table } from "../output";

export const getCommand: Command = {
  name: "get",
  summary: "Print the key's current content from the origin, byte for byte",
  usage: "get KEY",
  help: `Prints the current version's exact bytes on stdout (pipe it to a file or jq); the version and
ETag go to stderr. With --json: {"key", "version", "etag", "value"}.`,
  options: {},
  positionals: { min: 1, max: 1 },
  async run(ctx: CommandContext) {
    const key = keyArg(positional(ctx, 0), "get");
    const current = await (await ctx.api()).current(key);
    if (ctx.out.json) {
      const value: unknown = JSON.parse(new TextDecoder().decode(current.bytes));
      ctx.out.result({ key, version: current.version, etag: current.etag, value }, null);
      return 0;
    }
    ctx.out.note(ctx.out.paintErr.dim(`${key} v${current.version} ${current.etag}`));
    ctx.out.raw(current.bytes);
    const last = current.bytes[current.bytes.length - 1];
    if (ctx.io.stdout.isTTY && last !== 0x0a) ctx.out.raw(new Uint8Array([0x0a]));
    return 0;
  },
};

const PAGE = 100;

export const historyCommand: Command = {
  name: "history",
  summary: "List the key's versions, newest first",
  usage: "history KEY [--limit N] [--all]",
  help: `Options:
  --limit N   how many versions (default 20, at most 1000)
  --all       every version, following the origin's pages`,
  options: { limit: { type: "string" }, all: { type: "boolean" } },
  positionals: { min: 1, max: 1 },
  async run(ctx: CommandContext) {
    const key = keyArg(positional(ctx, 0), "history");
    const all = flag(ctx.values, "all");
    const limit = integerOption(ctx.values, "limit", { min: 1, max: 1000 }, "history") ?? 20;
    const api = await ctx.api();
    const versions: VersionItem[] = [];
    let cursor: string | null = null;
    do {
      ctx.out.progress(`fetching history of ${key}: ${versions.length} versions so far…`);
      const page = await api.versions(key, {
        limit: all ? PAGE : Math.min(limit - versions.length, 1000),
        ...(cursor ? { cursor } : {}),
      });
      versions.push(...page.versions);
      cursor = page.next;
    } while (cursor && (all || versions.length < limit));
    ctx.out.result({ key, versions, next: cursor }, renderHistory(ctx.out, key, versions, cursor !== null));
    return 0;
  },
};

export function renderHistory(out: Output, key: string, versions: VersionItem[], more: boolean): string {
  if (versions.length === 0) return `${key} has no versions`;
  const p = out.paint;
  const rows = [
    ["VERSION", "PUBLISHED", "AUTHOR", "SIZE", "MESSAGE"].map((h) => p.bold(h)),
    ...versions.map((v) => [
      p.cyan(`v${v.version}`),
      formatTime(v.publishedAt),
      v.author ?? "",
      v.size === undefined ? "" : formatBytes(v.size),
      v.message ?? p.dim("—"),
    ]),
  ];
  const tail = more ? `\n${p.dim("… older versions: use --limit N or --all")}` : "";
  return `${table(rows)}${tail}`;
}

export const showCommand: Command = {
  name: "show",
  summary: "Print one version's content and metadata",
  usage: "show KEY VERSION",
  help: `Prints the version's content, indented, on stdout; who published it, when and why on stderr.
With --json: the origin's version document {"version", "etag", "digest", "publishedAt", "author",
"message", "content", …}.`,
  options: {},
  positionals: { min: 2, max: 2 },
  async run(ctx: CommandContext) {
    const key = keyArg(positional(ctx, 0), "show");
    const version = parseVersionArg(positional(ctx, 1), "VERSION", "show");
    const doc = await (await ctx.api()).version(key, version);
    const p = ctx.out.paintErr;
    const meta = [
      `${key} v${doc.version}`,
      doc.etag,
      formatTime(doc.publishedAt),
      doc.author ?? "",
      doc.message ?? "",
    ]
      .filter((s) => s !== "")
      .join("  ");
    ctx.out.note(p.dim(meta));
    ctx.out.result(doc, JSON.stringify(doc.content, null, 2));
    return 0;
  },
};
