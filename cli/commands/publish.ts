/** `fleetconf publish KEY FILE|-`: publish a JSON document as the key's next version (DESIGN §4). */
import { readFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { checkJsonDocument } from "../../core/json";
import type { PublishResult } from "../admin-api";
import { flag, integerOption, stringOption } from "../args";
import { type Command, type CommandContext, keyArg, positional } from "../command";
import { CliError, UsageError } from "../errors";
import { formatBytes, type Io, type Output } from "../output";
import { DEFAULT_WAIT_TIMEOUT_SECONDS, parseWaitTarget, waitForConvergence } from "../wait-convergence";

const NAME = "publish";

export const publishCommand: Command = {
  name: NAME,
  summary: "Publish a JSON file (or stdin) as the key's next version",
  usage: "publish KEY FILE|- [--if-match ETAG | --create] [-m MESSAGE] [--wait 95% [--timeout S]]",
  help: `Reads the document from FILE, or from stdin with "-", checks locally that it is JSON the origin
accepts (UTF-8, no duplicate names, nesting ≤ 64), and publishes it. Publishing the same bytes as the
current version changes nothing and reports that version.

Options:
  --if-match ETAG     publish only if the current version still has this ETag (else 412)
  --create            publish only if the key has no current version (If-None-Match: *)
  -m, --message TEXT  a note for the audit log and history
  --wait SHARE        then wait until SHARE (e.g. 95%) of the clients polling the key hold the
                      version meant for them (fleetconf fleet), with a progress bar; exit 1 if not
                      reached within --timeout
  --timeout SECONDS   how long --wait waits (default 120)
  --window SECONDS    which clients --wait counts: those seen in the last SECONDS (default 300)

Examples:
  fleetconf publish payments/prod/flags flags.json -m "enable new checkout"
  jq '.rps = 200' flags.json | fleetconf publish payments/prod/flags - --if-match '"3-abc…"'`,
  options: {
    "if-match": { type: "string" },
    create: { type: "boolean" },
    message: { type: "string", short: "m" },
    wait: { type: "string" },
    timeout: { type: "string" },
    window: { type: "string" },
  },
  positionals: { min: 2, max: 2 },
  async run(ctx: CommandContext) {
    const key = keyArg(positional(ctx, 0), NAME);
    const source = positional(ctx, 1);
    const ifMatch = stringOption(ctx.values, "if-match");
    const create = flag(ctx.values, "create");
    if (ifMatch && create) throw new UsageError("--if-match and --create exclude each other", NAME);
    // Parsed before publishing, so a typo in --wait does not leave a publish behind.
    const waitRaw = stringOption(ctx.values, "wait");
    const waitTarget = waitRaw === undefined ? null : parseWaitTarget(waitRaw, NAME);
    const timeoutSeconds =
      integerOption(ctx.values, "timeout", { min: 1, max: 86_400 }, NAME) ?? DEFAULT_WAIT_TIMEOUT_SECONDS;
    const windowSeconds = integerOption(ctx.values, "window", { min: 1, max: 86_400 }, NAME) ?? 300;
    const body = await readDocument(source, ctx.io, ctx.out);
    const api = await ctx.api();
    ctx.out.progress(`publishing ${key} (${formatBytes(body.length)})…`);
    const message = stringOption(ctx.values, "message");
    const result = await api.publish(key, body, {
      ...(ifMatch ? { ifMatch } : {}),
      ...(create ? { create } : {}),
      ...(message ? { message } : {}),
    });
    if (waitTarget === null) {
      ctx.out.result({ ...result, key }, describeWrite(ctx.out, key, result, { size: body.length }));
      return 0;
    }
    if (!ctx.out.json) ctx.out.result(null, describeWrite(ctx.out, key, result, { size: body.length }));
    const fleet = await waitForConvergence(api, ctx.out, {
      key,
      version: result.version,
      target: waitTarget,
      timeoutSeconds,
      windowSeconds,
      signal: ctx.stopSignal(),
    });
    ctx.out.result(
      { ...result, key, fleet },
      `${ctx.out.paint.green("✔")} ${(fleet.converged * 100).toFixed(1)}% of ${fleet.clients} clients converged on v${result.version}`,
    );
    return 0;
  },
};

export function describeWrite(
  out: Output,
  key: string,
  result: PublishResult,
  options: { size?: number; verb?: string } = {},
): string {
  const size = options.size;
  const p = out.paint;
  const etag = p.dim(`etag ${result.etag}`);
  const bytes = size === undefined ? "" : p.dim(`, ${formatBytes(size)}`);
  const pending =
    result.distribution === "pending"
      ? `\n${p.yellow("note:")} edge caches not purged yet; they catch up within max-age`
      : "";
  if (!result.created)
    return `${p.yellow("=")} ${key} unchanged: already ${p.bold(`v${result.version}`)} (${etag})${pending}`;
  return `${p.green("✔")} ${options.verb ?? "published"} ${key} ${p.bold(`v${result.version}`)} (${etag}${bytes})${pending}`;
}

/** Reads FILE or stdin ("-") and checks it is JSON the origin accepts (line and column on error). */
export async function readDocument(source: string, io: Io, out: Output): Promise<Uint8Array> {
  let bytes: Uint8Array;
  if (source === "-") {
    if (io.stdin.isTTY) out.note("reading the document from stdin (end with Ctrl-D)…");
    const chunks: Uint8Array[] = [];
    for await (const chunk of io.stdin)
      chunks.push(typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk);
    bytes = new Uint8Array(Buffer.concat(chunks));
  } else {
    const path = isAbsolute(source) ? source : join(io.cwd, source);
    try {
      bytes = new Uint8Array(await readFile(path));
    } catch (error) {
      throw new CliError(`cannot read ${source}: ${(error as Error).message}`, { code: "unreadable" });
    }
  }
  const check = checkJsonDocument(bytes);
  if (!check.ok) {
    const where = check.offset === undefined ? "" : ` at ${position(bytes, check.offset)}`;
    throw new CliError(
      `${source === "-" ? "stdin" : source} is not a JSON document fleetconf accepts: ${check.reason}${where}`,
      {
        code: "invalid_json",
      },
    );
  }
  return bytes;
}

/** "line L, column C" for a character offset, which people find faster than an offset. */
function position(bytes: Uint8Array, offset: number): string {
  const before = new TextDecoder().decode(bytes).slice(0, offset);
  const lines = before.split("\n");
  return `line ${lines.length}, column ${(lines.at(-1)?.length ?? 0) + 1}`;
}
