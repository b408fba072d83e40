/** `fleetconf agent`: keep a file equal to a key's verified config and run a hook on change. */
import { isAbsolute, join } from "node:path";
import { EXIT_STALE, runAgent } from "../agent/agent";
import { stringOption } from "../args";
import { EDGE_CLIENT_HELP, EDGE_CLIENT_OPTIONS, edgeClientOptions } from "../client-options";
import type { Command, CommandContext } from "../command";
import { UsageError } from "../errors";

const NAME = "agent";

export const agentCommand: Command = {
  name: NAME,
  summary: "Keep a file equal to a key's verified config; run a hook after each change",
  usage:
    "agent --key KEY --out FILE (--root FILE | --jwks FILE | --thumbprint T…) [--max-staleness SECONDS] [--status FILE] [--exec CMD] [--wait SECONDS | --no-long-poll] [--interval SECONDS] [--cache FILE]",
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
  --exec CMD          the hook, e.g. "systemctl reload nginx"
  --cache FILE        where to keep the sidecar (default FILE.fleetconf.json)
  --status FILE       keep a JSON status here: {"state":"fresh"|"stale","version",…}
${EDGE_CLIENT_HELP}`,
  options: {
    ...EDGE_CLIENT_OPTIONS,
    out: { type: "string" },
    exec: { type: "string" },
    status: { type: "string" },
  },
  positionals: { min: 0, max: 1 },
  async run(ctx: CommandContext) {
    const key = stringOption(ctx.values, "key") ?? ctx.positionals[0];
    const outRaw = stringOption(ctx.values, "out");
    if (!key) throw new UsageError("--key is required", NAME);
    if (!outRaw) throw new UsageError("--out is required", NAME);
    const absolute = (p: string) => (isAbsolute(p) ? p : join(ctx.io.cwd, p));
    const setup = await edgeClientOptions(key, ctx.values, ctx.io, NAME, ctx.fetch);
    const log = (level: string, event: string, fields: Record<string, unknown> = {}) =>
      ctx.out.jsonLine({ time: new Date().toISOString(), level, event, ...fields });
    if (setup.warning) log("warn", "agent.trust", { message: setup.warning });
    const exec = stringOption(ctx.values, "exec");
    const cache = stringOption(ctx.values, "cache");
    const status = stringOption(ctx.values, "status");
    const result = await runAgent(
      {
        client: setup.options,
        out: absolute(outRaw),
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
