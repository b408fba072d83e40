/** `fleetconf publish KEY FILE|-`: publish a JSON document as the key's next version (DESIGN §4). */
import { readdir, readFile, stat } from "node:fs/promises";
import { isAbsolute, join, relative, sep } from "node:path";
import { checkJsonDocument } from "../../core/json";
import { parseKey } from "../../core/keys";
import { isHeld, type PublishResult } from "../admin-api";
import { flag, integerOption, stringOption } from "../args";
import { type Command, type CommandContext, keyArg, positional } from "../command";
import { CliError, UsageError } from "../errors";
import { formatBytes, type Io, type Output } from "../output";
import { DEFAULT_WAIT_TIMEOUT_SECONDS, parseWaitTarget, waitForConvergence } from "../wait-convergence";
import { reportHeld } from "./changes";

const NAME = "publish";

export const publishCommand: Command = {
  name: NAME,
  summary: "Publish a JSON file (or stdin) as the key's next version, or a folder as one change set",
  usage:
    "publish KEY FILE|- [--if-match ETAG | --create] [-m MESSAGE] [--wait 95% [--timeout S]]\n       publish PREFIX FOLDER [-m MESSAGE]",
  help: `Reads the document from FILE, or from stdin with "-", checks locally that it is JSON the origin
accepts (UTF-8, no duplicate names, nesting ≤ 64), and publishes it. Publishing the same bytes as the
current version changes nothing and reports that version.

With a FOLDER, every *.json file under it is one key, PREFIX/<path without .json> (PREFIX is the
namespace or a key prefix within it), and all of them are published as ONE change set (POST
/v1/changes): all or nothing, one audit entry, one step for bundle clients. A change set stores each
document compactly serialised (not the file's exact bytes).

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
    const source = positional(ctx, 1);
    const folder = source === "-" ? null : await folderAt(ctx.io.cwd, source);
    if (folder !== null) return publishFolder(ctx, positional(ctx, 0), source, folder);
    const key = keyArg(positional(ctx, 0), NAME);
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
    if (isHeld(result)) return reportHeld(ctx.out, result);
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

/** The absolute path of SOURCE when it is a directory, else null (a file, or nothing: read later). */
async function folderAt(cwd: string, source: string): Promise<string | null> {
  const path = isAbsolute(source) ? source : join(cwd, source);
  try {
    return (await stat(path)).isDirectory() ? path : null;
  } catch {
    return null;
  }
}

/** Every *.json file under `dir`, sorted, as paths relative to it. */
async function jsonFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(".json"))
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

/** `publish PREFIX FOLDER`: one change set of every *.json file under FOLDER. */
async function publishFolder(
  ctx: CommandContext,
  prefix: string,
  source: string,
  dir: string,
): Promise<number> {
  for (const option of ["if-match", "create", "wait"]) {
    if (ctx.values[option] !== undefined)
      throw new UsageError(`--${option} applies to one key, not a folder`, NAME);
  }
  const files = await jsonFiles(dir);
  if (files.length === 0) throw new CliError(`${source} holds no *.json files`, { code: "empty_folder" });
  const changes = [];
  for (const file of files) {
    const key = `${prefix.replace(/\/+$/, "")}/${file.slice(0, -".json".length).split(sep).join("/")}`;
    const parsed = parseKey(key);
    if (!parsed.ok) {
      throw new CliError(`${join(source, file)} would be key ${key}, which is invalid: ${parsed.reason}`, {
        code: "invalid_key",
      });
    }
    const bytes = await readDocument(join(dir, file), ctx.io, ctx.out);
    changes.push({ key, content: JSON.parse(new TextDecoder().decode(bytes)) as unknown });
  }
  const api = await ctx.api();
  ctx.out.progress(`publishing ${changes.length} keys from ${source} as one change set…`);
  const message = stringOption(ctx.values, "message");
  const result = await api.changes(changes, message);
  if (isHeld(result)) return reportHeld(ctx.out, result);
  const p = ctx.out.paint;
  const lines = result.changes.map((c) =>
    c.outcome === "unchanged"
      ? `${p.yellow("=")} ${c.key} unchanged: already ${p.bold(`v${c.version}`)}`
      : `${p.green("✔")} ${c.key} ${p.bold(`v${c.version}`)} ${p.dim(`(etag ${c.etag ?? ""})`)}`,
  );
  if (result.distribution === "pending")
    lines.push(`${p.yellow("note:")} edge caches not purged yet; they catch up within max-age`);
  ctx.out.result(result, lines.join("\n"));
  return 0;
}
