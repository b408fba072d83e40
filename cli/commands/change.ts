/** Admin commands that change a key without new content: `rollback`, `delete` and `redact`. */
import { isHeld } from "../admin-api";
import { flag, parseVersionArg, stringOption } from "../args";
import { type Command, type CommandContext, keyArg, positional } from "../command";
import { UsageError } from "../errors";
import { reportHeld } from "./changes";
import { describeWrite } from "./publish";

export const rollbackCommand: Command = {
  name: "rollback",
  summary: "Publish an earlier version's content as a new version",
  usage: "rollback KEY VERSION [-m MESSAGE]",
  help: `Versions are never reused: rolling back to v2 publishes v2's content as the next version, so
every client moves forward to it and history keeps both.

Options:
  -m, --message TEXT  a note for the audit log and history`,
  options: { message: { type: "string", short: "m" } },
  positionals: { min: 2, max: 2 },
  async run(ctx: CommandContext) {
    const key = keyArg(positional(ctx, 0), "rollback");
    const to = parseVersionArg(positional(ctx, 1), "VERSION", "rollback");
    const message = stringOption(ctx.values, "message") ?? `rollback to v${to}`;
    const result = await (await ctx.api()).rollback(key, to, message);
    if (isHeld(result)) return reportHeld(ctx.out, result);
    const human = describeWrite(ctx.out, key, result, { verb: `rolled back to v${to}'s content:` });
    ctx.out.result({ ...result, key, rolledBackTo: to }, human);
    return 0;
  },
};

export const deleteCommand: Command = {
  name: "delete",
  summary: "Delete a key (the origin and the edge answer 404; history is kept)",
  usage: "delete KEY --yes [-m MESSAGE]",
  help: `Tombstones the key: the edge answers 404 for it and all its versions once caches are purged.
Its history stays, and its version numbers are never reused if it is published again.

Options:
  -y, --yes           required: confirms the deletion
  -m, --message TEXT  a note for the audit log`,
  options: { yes: { type: "boolean", short: "y" }, message: { type: "string", short: "m" } },
  positionals: { min: 1, max: 1 },
  async run(ctx: CommandContext) {
    const key = keyArg(positional(ctx, 0), "delete");
    if (!flag(ctx.values, "yes")) throw new UsageError(`deleting ${key} needs --yes`, "delete");
    const message = stringOption(ctx.values, "message");
    const result = await (await ctx.api()).remove(key, message);
    if (isHeld(result)) return reportHeld(ctx.out, result);
    const p = ctx.out.paint;
    const last = result.version === null ? "" : p.dim(` (last version v${result.version})`);
    ctx.out.result({ ...result, deleted: true }, `${p.red("✘")} deleted ${key}${last}`);
    return 0;
  },
};

export const redactCommand: Command = {
  name: "redact",
  summary: "Remove one version's bytes from the origin, KV and every edge cache (410 Gone after)",
  usage: "redact KEY VERSION --yes [-m MESSAGE]",
  help: `For a version published by mistake (a secret): its bytes are erased in the origin's database,
its KV snapshot is deleted and every edge cache is purged; the edge then answers 410 Gone for
?version=VERSION, and history and the audit log keep its ETag, digest and author. The live
version cannot be redacted: publish the fix first. Rotate the leaked secret anyway — anyone may
have fetched it before.

Options:
  -y, --yes           required: confirms the redaction (it cannot be undone)
  -m, --message TEXT  a note for the audit log`,
  options: { yes: { type: "boolean", short: "y" }, message: { type: "string", short: "m" } },
  positionals: { min: 2, max: 2 },
  async run(ctx: CommandContext) {
    const key = keyArg(positional(ctx, 0), "redact");
    const version = parseVersionArg(positional(ctx, 1), "VERSION", "redact");
    if (!flag(ctx.values, "yes")) throw new UsageError(`redacting ${key} v${version} needs --yes`, "redact");
    const result = await (await ctx.api()).redact(key, version, stringOption(ctx.values, "message"));
    const p = ctx.out.paint;
    const human = result.redacted
      ? `${p.red("✘")} redacted ${key} v${version}: its bytes are gone (distribution ${result.distribution})`
      : `${key} v${version} was already redacted (${result.redactedAt})`;
    ctx.out.result(result, human);
    return 0;
  },
};
