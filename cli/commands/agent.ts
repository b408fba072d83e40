/** `fleetconf agent`: keep a file equal to a key's verified config and run a hook on change. */
import { readFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { EXIT_STALE, OUT_FILE_MODE, runAgent } from "../agent/agent";
import { stringOption } from "../args";
import { EDGE_CLIENT_HELP, EDGE_CLIENT_OPTIONS, edgeClientOptions } from "../client-options";
import type { Command, CommandContext } from "../command";
import { UsageError } from "../errors";

const NAME = "agent";
const TOKEN_FILE_ENV = "FLEETCONF_READ_TOKEN_FILE";
/** A read token is a JWT of a few hundred bytes; a larger file is the wrong file. */
const MAX_TOKEN_FILE_BYTES = 8192;

/** `--mode 0640` / `640`: octal permission bits, owner-readable at least (the agent reads it back). */
export function parseMode(raw: string | undefined): number {
  if (raw === undefined) return OUT_FILE_MODE;
  if (!/^0?[0-7]{3}$/.test(raw))
    throw new UsageError("--mode must be octal permission bits such as 0600", NAME);
  const mode = Number.parseInt(raw, 8);
  if ((mode & 0o600) !== 0o600)
    throw new UsageError("--mode must leave FILE readable and writable by its owner", NAME);
  return mode;
}

/**
 * The parsed options with `token` taken from --token-file (or FLEETCONF_READ_TOKEN_FILE) when
 * given: the file's first line, trimmed, as a systemd credential or a Kubernetes secret mount has it.
 */
async function withTokenFile(
  ctx: CommandContext,
  absolute: (p: string) => string,
): Promise<CommandContext["values"]> {
  const file = stringOption(ctx.values, "token-file") ?? ctx.io.env[TOKEN_FILE_ENV];
  if (file === undefined || file === "") return ctx.values;
  if (stringOption(ctx.values, "token") !== undefined) {
    throw new UsageError("--token and --token-file exclude each other", NAME);
  }
  let text: string;
  try {
    const bytes = await readFile(absolute(file));
    if (bytes.length > MAX_TOKEN_FILE_BYTES) throw new UsageError(`${file} is too large for a token`, NAME);
    text = bytes.toString("utf8");
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot read the token file ${file}: ${(error as Error).message}`, NAME);
  }
  const token = text.split("\n")[0]?.trim() ?? "";
  if (token === "") throw new UsageError(`the token file ${file} is empty`, NAME);
  return { ...ctx.values, token };
}

export const agentCommand: Command = {
  name: NAME,
  summary: "Keep a file equal to a key's verified config; run a hook after each change",
  usage:
    "agent --key KEY --out FILE (--root FILE | --jwks FILE | --thumbprint T…) [--max-staleness SECONDS] [--status FILE] [--mode OCTAL] [--token-file FILE] [--exec CMD] [--wait SECONDS | --no-long-poll] [--interval SECONDS] [--cache FILE]",
  help: `Long-polls the edge with conditional requests (each held until the key changes, up to
--wait seconds; polling every --interval when the edge does not hold them) and replaces FILE
atomically (temp file + rename) with every new version that verifies (digest, signature, key,
version never going back). Then it runs CMD once through the shell with FLEETCONF_KEY,
FLEETCONF_VERSION and FLEETCONF_FILE set; changes arriving while CMD runs are coalesced into one
more run for the newest version.

Logs are JSON lines on stdout (one per event: agent.start, config.written, config.current,
hook.start, hook.output, hook.done, hook.failed, client.error, client.trust, config.stale,
config.fresh, agent.stop). Outages are retried with backoff while FILE keeps the last good
config. SIGTERM or SIGINT stops it cleanly (exit 0; 75 when it was stale), waiting up to 10 s for
a running hook and leaving no temp files.

Trust is pinned (docs/cli.md "Pinning and rotating on a fleet"): --root FILE follows signed root
rotations from the edge; --jwks FILE or --thumbprint pin keys for good. Without a pin only a
loopback edge is accepted (development; trust on first use, logged as a warning).

The version FILE holds is kept in a sidecar, FILE.fleetconf.json (or --cache FILE): the last
verified snapshot with its signature, the trust roots accepted since the pinned one and the
newest freshness proof — all re-verified against the pinned trust at start, never against keys
of its own. A restarted agent never writes anything older than it.

Options:
  --key KEY           the config key (also accepted as the first argument)
  --out FILE          the file to keep current
  --mode OCTAL        FILE's permission bits (default 0600: owner only; e.g. 0640 for a group)
  --token-file FILE   read the read token from FILE (env FLEETCONF_READ_TOKEN_FILE), so it is
                      not on the command line, where ps and /proc/PID/cmdline show it to everyone
  --exec CMD          the hook, e.g. "systemctl reload nginx"
  --cache FILE        where to keep the sidecar (default FILE.fleetconf.json)
  --status FILE       keep a JSON status here: {"state":"fresh"|"stale","version",…}
${EDGE_CLIENT_HELP}`,
  options: {
    ...EDGE_CLIENT_OPTIONS,
    out: { type: "string" },
    exec: { type: "string" },
    mode: { type: "string" },
    "token-file": { type: "string" },
    status: { type: "string" },
  },
  positionals: { min: 0, max: 1 },
  async run(ctx: CommandContext) {
    const key = stringOption(ctx.values, "key") ?? ctx.positionals[0];
    const outRaw = stringOption(ctx.values, "out");
    if (!key) throw new UsageError("--key is required", NAME);
    if (!outRaw) throw new UsageError("--out is required", NAME);
    const absolute = (p: string) => (isAbsolute(p) ? p : join(ctx.io.cwd, p));
    const mode = parseMode(stringOption(ctx.values, "mode"));
    const log = (level: string, event: string, fields: Record<string, unknown> = {}) =>
      ctx.out.jsonLine({ time: new Date().toISOString(), level, event, ...fields });
    const values = await withTokenFile(ctx, absolute);
    if (stringOption(ctx.values, "token") !== undefined) {
      log("warn", "agent.token", {
        message: "--token is visible to every user in ps; use --token-file or FLEETCONF_READ_TOKEN",
      });
    }
    const setup = await edgeClientOptions(key, values, ctx.io, NAME, ctx.fetch);
    if (setup.warning) log("warn", "agent.trust", { message: setup.warning });
    const exec = stringOption(ctx.values, "exec");
    const cache = stringOption(ctx.values, "cache");
    const status = stringOption(ctx.values, "status");
    const result = await runAgent(
      {
        client: setup.options,
        out: absolute(outRaw),
        mode,
        env: ctx.io.env,
        ...(exec ? { exec } : {}),
        ...(cache ? { cacheFile: absolute(cache) } : {}),
        ...(status ? { statusFile: absolute(status) } : {}),
      },
      ctx.stopSignal(),
      log,
    );
    return result.stale ? EXIT_STALE : 0;
  },
};
