/**
 * `fleetconf promote SRC[@N] DST`: publishes one key's version, byte for byte, as another key's
 * next version — staging → prod — under DST's own rules: the origin checks DST's JSON Schema, and
 * the write is conditional on DST's ETag read just before (If-Match), so a change to DST in
 * between is a 412, never overwritten. The audit message names the source and its digest.
 */
import { diffJson, type JsonValue, toJsonPatch } from "../../core/json-diff";
import { parseRolloutHeader } from "../../core/rollout";
import { type AdminApi, isHeld } from "../admin-api";
import { flag, parseVersionArg, stringOption } from "../args";
import { putConfig } from "../change-control-api";
import { heldLine } from "../change-requests-api";
import { type Command, type CommandContext, keyArg, positional } from "../command";
import { renderChanges, summarise } from "../diff-render";
import { CliError, UsageError } from "../errors";
import { formatBytes } from "../output";
import { digestOf, type ExactVersion, readVersionBytes } from "../version-bytes";
import { describeWrite } from "./publish";

const NAME = "promote";

export interface PromoteSource {
  key: string;
  /** A version number, or "live" for the current version. */
  version: number | "live";
}

/** `KEY`, `KEY@live` or `KEY@N` (a key never contains `@`). */
export function parsePromoteSource(raw: string): PromoteSource {
  const at = raw.lastIndexOf("@");
  const key = keyArg(at < 0 ? raw : raw.slice(0, at), NAME);
  const ref = at < 0 ? "live" : raw.slice(at + 1);
  return {
    key,
    version: ref === "live" ? "live" : parseVersionArg(ref, `the version after @ in ${raw}`, NAME),
  };
}

/** A key's current version, with its digest computed from the bytes the origin answered. */
async function currentOf(api: AdminApi, key: string): Promise<ExactVersion> {
  const current = await api.current(key);
  return {
    key,
    version: current.version,
    bytes: current.bytes,
    digest: await digestOf(current.bytes),
    etag: current.etag,
    current: true,
  };
}

/** DST as it is now, or null when it has no current version (never published, or deleted). */
async function destinationOf(api: AdminApi, key: string): Promise<ExactVersion | null> {
  try {
    return await currentOf(api, key);
  } catch (error) {
    if (error instanceof CliError && error.status === 404) return null;
    throw error;
  }
}

export const promoteCommand: Command = {
  name: NAME,
  summary: "Publish one key's version, byte for byte, as another key's next version (staging → prod)",
  usage:
    'promote SRC[@N|@live] DST [--if-match ETAG | --create] [--rollout "30; max-rejected=10"] [--dry-run] [-m MESSAGE]',
  help: `Reads version N of SRC (its current version with @live or no @) exactly as published, and
publishes those bytes as DST's next version. DST's rules apply: the origin checks DST's JSON Schema
(a violation is printed with where the document broke it, exit 1), and the write is made only over
DST's current ETag, read just before (If-Match), so a change to DST in between fails with 412
instead of being overwritten. The audit note is "promote SRC@N (digest …)", then your -m.

If SRC@N's content already is DST's current content (same digest), nothing is published: "already
promoted", exit 0. In a namespace whose writes need approval, a change request is created instead
(exit 0); nothing is published until it is approved.

Options:
  --if-match ETAG     publish only over this ETag of DST (instead of the one read just before)
  --create            DST has no current version yet: create it (If-None-Match: *)
  --rollout VALUE     start a staged rollout of it in DST (a Config-Rollout value, as in
                      "30; max-rejected=10; min-clients=5", or "linear; start=10; step=10; every=300")
  --dry-run           show what would change in DST (a structural diff) and change nothing
  -m, --message TEXT  a note appended to the audit message

Examples:
  fleetconf promote staging/web/flags@7 prod/web/flags --dry-run
  fleetconf promote staging/web/flags@7 prod/web/flags --rollout "30; max-rejected=10" -m "CHG-1234"
  fleetconf promote staging/web/flags prod/web/flags --create`,
  options: {
    "if-match": { type: "string" },
    create: { type: "boolean" },
    rollout: { type: "string" },
    "dry-run": { type: "boolean" },
    message: { type: "string", short: "m" },
  },
  positionals: { min: 2, max: 2 },
  async run(ctx: CommandContext) {
    const source = parsePromoteSource(positional(ctx, 0));
    const dst = keyArg(positional(ctx, 1), NAME);
    if (dst === source.key) {
      throw new UsageError(
        `SRC and DST are the same key; to publish an earlier version again use \`fleetconf rollback ${dst} N\``,
        NAME,
      );
    }
    const ifMatch = stringOption(ctx.values, "if-match");
    const create = flag(ctx.values, "create");
    if (ifMatch && create) throw new UsageError("--if-match and --create exclude each other", NAME);
    const rollout = stringOption(ctx.values, "rollout");
    if (rollout !== undefined) {
      const parsed = parseRolloutHeader(rollout);
      if (!parsed.ok) throw new UsageError(`--rollout ${JSON.stringify(rollout)}: ${parsed.reason}`, NAME);
    }
    const api = await ctx.api();
    ctx.out.progress(`reading ${positional(ctx, 0)} and ${dst}…`);
    // @live names the current version's number; its bytes come from the version record either way,
    // so they are checked against the digest the origin stored for them.
    const version = source.version === "live" ? (await api.current(source.key)).version : source.version;
    const src = await readVersionBytes(api, source.key, version);
    const target = await destinationOf(api, dst);
    const from = `${src.key}@${src.version}`;
    const about = { key: dst, source: { key: src.key, version: src.version, digest: src.digest } };
    const p = ctx.out.paint;

    if (target !== null && target.digest === src.digest) {
      ctx.out.result(
        { ...about, promoted: false, version: target.version, etag: target.etag },
        `${p.yellow("=")} already promoted: ${dst} ${p.bold(`v${target.version}`)} has ${from}'s content ${p.dim(`(${src.digest})`)}`,
      );
      return 0;
    }
    if (target === null && !create && ifMatch === undefined) {
      throw new CliError(`${dst} has no current version to promote over`, {
        code: "not_found",
        status: 404,
        hint: `to create it with ${from}'s content, add --create (If-None-Match: *)`,
      });
    }
    if (target !== null && create) {
      throw new CliError(`${dst} exists (v${target.version}): --create only creates a key`, {
        code: "exists",
        hint: "drop --create to publish over its current version",
      });
    }

    if (flag(ctx.values, "dry-run")) {
      const after: JsonValue = JSON.parse(new TextDecoder().decode(src.bytes));
      if (target === null) {
        ctx.out.result(
          { ...about, dryRun: true, destination: null, patch: [{ op: "add", path: "", value: after }] },
          `${p.bold(dst)} does not exist: promoting would create it with ${from} (${formatBytes(src.bytes.length)})`,
        );
        return 0;
      }
      const before: JsonValue = JSON.parse(new TextDecoder().decode(target.bytes));
      const changes = diffJson(before, after);
      const header = `${p.bold(dst)} ${p.cyan(`v${target.version}`)} → ${p.cyan(from)}: ${summarise(changes)}`;
      ctx.out.result(
        {
          ...about,
          dryRun: true,
          destination: { version: target.version, etag: target.etag, digest: target.digest },
          patch: toJsonPatch(changes),
        },
        `${header}\n${renderChanges(changes, p)}\n${p.dim("dry run: nothing was published")}`,
      );
      return 0;
    }

    const note = stringOption(ctx.values, "message");
    const message = `promote ${from} (${src.digest})${note ? `: ${note}` : ""}`;
    const etag = ifMatch ?? target?.etag;
    const precondition = create ? { create } : etag === undefined ? {} : { ifMatch: etag };
    ctx.out.progress(`promoting ${from} to ${dst} (${formatBytes(src.bytes.length)})…`);
    let outcome: Awaited<ReturnType<typeof putConfig>>;
    try {
      outcome = await putConfig(api, dst, src.bytes, {
        ...precondition,
        message,
        ...(rollout === undefined ? {} : { rollout }),
      });
    } catch (error) {
      throw refusal(error, { dst, from, argv: [positional(ctx, 0), dst], userEtag: ifMatch });
    }
    if (isHeld(outcome)) {
      // DST's namespace needs approval: nothing is published until another admin approves.
      ctx.out.result({ ...about, changeRequest: outcome.held }, `${p.yellow("⧗")} ${heldLine(outcome)}`);
      return 0;
    }
    const { write, rollout: started } = outcome;
    const lines = [
      describeWrite(ctx.out, dst, write, { size: src.bytes.length, verb: `promoted ${from} to` }),
    ];
    if (started !== null) {
      lines.push(
        `  rollout started over v${started.stable?.version ?? "?"}: ${p.bold(`${started.share ?? 0}%`)} of clients now (fleetconf rollout status ${dst})`,
      );
    }
    ctx.out.result({ ...about, ...write, promoted: write.created, rollout: started }, lines.join("\n"));
    return 0;
  },
};

/** A 412 from the write means DST moved after it was read (or --if-match was stale): say so. */
function refusal(
  error: unknown,
  what: { dst: string; from: string; argv: string[]; userEtag: string | undefined },
): unknown {
  if (!(error instanceof CliError) || error.status !== 412) return error;
  const why =
    what.userEtag === undefined
      ? `${what.dst} changed after it was read`
      : `${what.dst}'s current ETag is no longer ${what.userEtag}`;
  return new CliError(`${why}: nothing was published (412)`, {
    code: error.code,
    status: 412,
    hint: `re-run \`fleetconf promote ${what.argv.join(" ")} --dry-run\` to see what changed, then promote again`,
  });
}
