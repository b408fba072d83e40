/** `fleetconf schema set|get|delete KEY`: the JSON Schema (2020-12) a key's content must match. */
import { stringOption } from "../args";
import { deleteSchema, getSchema, putSchema } from "../change-control-api";
import { type Command, type CommandContext, keyArg, positional } from "../command";
import { readDocument } from "./publish";

export const schemaSetCommand: Command = {
  name: "schema set",
  summary: "Set the JSON Schema a key's content must match",
  usage: "schema set KEY FILE|- [-m MESSAGE]",
  help: `Stores FILE (or stdin with "-") as KEY's JSON Schema (draft 2020-12). From then on a publish,
rollback or rollout whose document breaks it is refused (422) with each error's JSON Pointer. The
schema itself is checked first, and refused if the versions being served now do not match it.

Example:
  fleetconf schema set payments/prod/flags flags.schema.json -m "require rps"`,
  options: { message: { type: "string", short: "m" } },
  positionals: { min: 2, max: 2 },
  async run(ctx: CommandContext) {
    const key = keyArg(positional(ctx, 0), "schema set");
    const body = await readDocument(positional(ctx, 1), ctx.io, ctx.out);
    const summary = await putSchema(await ctx.api(), key, body, stringOption(ctx.values, "message"));
    const p = ctx.out.paint;
    const human = summary.changed
      ? `${p.green("✔")} schema of ${key} ${summary.created ? "set" : "replaced"} ${p.dim(`(${summary.digest})`)}`
      : `${p.yellow("=")} schema of ${key} unchanged ${p.dim(`(${summary.digest})`)}`;
    ctx.out.result(summary, human);
    return 0;
  },
};

export const schemaGetCommand: Command = {
  name: "schema get",
  summary: "Print a key's JSON Schema",
  usage: "schema get KEY",
  help: "Prints the schema's exact bytes (with --json, the schema as one JSON document).",
  options: {},
  positionals: { min: 1, max: 1 },
  async run(ctx: CommandContext) {
    const key = keyArg(positional(ctx, 0), "schema get");
    const bytes = await getSchema(await ctx.api(), key);
    if (ctx.out.json) ctx.out.result(JSON.parse(new TextDecoder().decode(bytes)), null);
    else {
      ctx.out.raw(bytes);
      if (bytes.at(-1) !== 0x0a) ctx.io.stdout.write("\n");
    }
    return 0;
  },
};

export const schemaDeleteCommand: Command = {
  name: "schema delete",
  summary: "Remove a key's JSON Schema",
  usage: "schema delete KEY [-m MESSAGE]",
  help: "Publishes to KEY are no longer checked against a schema.",
  options: { message: { type: "string", short: "m" } },
  positionals: { min: 1, max: 1 },
  async run(ctx: CommandContext) {
    const key = keyArg(positional(ctx, 0), "schema delete");
    const removed = await deleteSchema(await ctx.api(), key, stringOption(ctx.values, "message"));
    ctx.out.result(removed, `${ctx.out.paint.red("✘")} removed the schema of ${key}`);
    return 0;
  },
};
