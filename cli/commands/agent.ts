/** `fleetconf agent`: keep a file equal to a key's verified config and run a hook on change. */
import { mkdir, readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { parseBundlePath } from "../../core/bundles";
import { EXIT_STALE, runAgent } from "../agent/agent";
import { runBundleAgent } from "../agent/bundle-agent";
import { parseListen, startLocalApi } from "../agent/listen";
import { stringOption } from "../args";
import { EDGE_CLIENT_HELP, EDGE_CLIENT_OPTIONS, edgeClientOptions } from "../client-options";
import type { Command, CommandContext } from "../command";
import { UsageError } from "../errors";

const NAME = "agent";

const TOKEN_FILE_ENV = "FLEETCONF_READ_TOKEN_FILE";
/** A read token is a JWT of a few hundred bytes; a larger file is the wrong file. */
const MAX_TOKEN_FILE_BYTES = 8192;

/**
 * The parsed options with `token` taken from --token-file (or FLEETCONF_READ_TOKEN_FILE) when
 * given: the file's first line, trimmed, as a systemd credential or a Kubernetes secret mount has
 * it — so the token is not on the command line, where ps shows it to every user.
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

/**
 * `--mode 0640` / `640`: octal permission bits that leave FILE readable and writable by its owner
 * (the agent reads its files back and replaces them); undefined = OUT_FILE_MODE (0600).
 */
export function parseMode(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^0?[0-7]{3}$/.test(raw))
    refuse(`--mode ${JSON.stringify(raw)} is not octal permission bits such as 0640`);
  const mode = Number.parseInt(raw, 8);
  if ((mode & 0o600) !== 0o600) refuse(`--mode ${raw} must leave FILE readable and writable by its owner`);
  return mode;
}

export const agentCommand: Command = {
  name: NAME,
  summary: "Keep a file equal to a key's verified config; run a hook after each change",
  usage:
    "agent --key KEY [--out FILE] [--listen 127.0.0.1:PORT] (--root FILE | --jwks FILE | --thumbprint T…) [--mkdir] [--mode OCTAL] [--token-file FILE] [--state-dir DIR] [--max-staleness SECONDS] [--status FILE] [--exec CMD] [--wait SECONDS | --no-long-poll] [--interval SECONDS]",
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

The version FILE holds is kept in the state directory (--state-dir), never beside FILE, where an
application loading every *.json of its config folder would take it for config: the last verified
snapshot with its signature, the trust roots accepted since the pinned one and the newest
freshness proof — all re-verified against the pinned trust at start, never against keys of its
own. A restarted agent never writes anything older than it.

A flag combination that cannot work (a missing folder for FILE without --mkdir, a state file
beside FILE, a bad --mode) is refused at start: exit 2 and one line saying why.

Options:
  --bundle NS/NAME    follow a bundle instead: --out is then a folder holding one file per
                      member (DIR/<key without namespace>.json), the hook runs once per set
  --key KEY           the config key (also accepted as the first argument); repeat it to follow
                      several keys in one process, served by --listen (then no --out)
  --out FILE          the file to keep current (optional with --listen)
  --listen ADDR       also serve GET /v1/configs/KEY on this loopback address (127.0.0.1:2772)
                      from the verified state, with the edge's ETag/304 and Prefer: wait
  --mkdir             create FILE's folder if it does not exist (else the agent refuses to start)
  --mode OCTAL        permission bits of FILE (default 0600: owner only; e.g. 0640 for a group)
  --token-file FILE   read the read token from FILE (env FLEETCONF_READ_TOKEN_FILE), so it is
                      not on the command line, where ps and /proc/PID/cmdline show it to everyone
  --state-dir DIR     where to keep the agent's state (env FLEETCONF_STATE_DIR, default
                      $XDG_STATE_HOME/fleetconf or ~/.local/state/fleetconf); created if missing
  --exec CMD          the hook, e.g. "systemctl reload nginx"
  --cache FILE        the state file itself, instead of one in --state-dir
  --status FILE       keep a JSON status here: {"state":"fresh"|"stale","version",…}
${EDGE_CLIENT_HELP}`,
  options: {
    ...EDGE_CLIENT_OPTIONS,
    // Repeatable: several keys in one process, served by --listen.
    key: { type: "string", multiple: true },
    out: { type: "string" },
    exec: { type: "string" },
    mkdir: { type: "boolean" },
    mode: { type: "string" },
    "token-file": { type: "string" },
    "state-dir": { type: "string" },
    listen: { type: "string" },
    status: { type: "string" },
    bundle: { type: "string" },
  },
  positionals: { min: 0, max: 1 },
  async run(ctx: CommandContext) {
    const bundle = stringOption(ctx.values, "bundle");
    if (bundle !== undefined) return runBundle(ctx, bundle);
    const given = ctx.values.key;
    const keys = [
      ...new Set([
        ...(Array.isArray(given) ? given.filter((k) => typeof k === "string") : []),
        ...ctx.positionals,
      ]),
    ];
    const outRaw = stringOption(ctx.values, "out");
    const key = keys[0];
    if (!key) throw new UsageError("--key is required", NAME);
    const listenRaw = stringOption(ctx.values, "listen");
    if (!outRaw && listenRaw === undefined) refuse("give --out FILE, --listen 127.0.0.1:PORT, or both");
    const listen = listenRaw === undefined ? undefined : parseListen(listenRaw);
    if (typeof listen === "string") refuse(listen);
    if (keys.length > 1) {
      for (const flag of ["out", "status", "cache"]) {
        if (ctx.values[flag] !== undefined) {
          refuse(`several --key are served by --listen only: --${flag} names one file, for one key`);
        }
      }
      if (listen === undefined) refuse("several --key need --listen 127.0.0.1:PORT");
    }
    const absolute = (p: string) => resolve(isAbsolute(p) ? p : join(ctx.io.cwd, p));
    // Flags first (no folder is created for a command line that is refused anyway), then the
    // file-system checks and folders.
    const log = (level: string, event: string, fields: Record<string, unknown> = {}) =>
      ctx.out.jsonLine({ time: new Date().toISOString(), level, event, ...fields });
    const values = await withTokenFile(ctx, absolute);
    if (stringOption(ctx.values, "token") !== undefined) {
      log("warn", "agent.token", {
        message: "--token is visible to every user in ps; use --token-file or FLEETCONF_READ_TOKEN",
      });
    }
    const setups = [];
    for (const one of keys)
      setups.push({ key: one, setup: await edgeClientOptions(one, values, ctx.io, NAME, ctx.fetch) });
    const plan = await startPlan(ctx, outRaw ? absolute(outRaw) : undefined, absolute);
    const exec = stringOption(ctx.values, "exec");
    const status = stringOption(ctx.values, "status");
    // One local API for every key of this process.
    const api = listen === undefined ? undefined : await startLocalApi(listen, keys);
    try {
      const results = await Promise.all(
        setups.map(({ setup }) => {
          if (setup.warning) log("warn", "agent.trust", { message: setup.warning });
          return runAgent(
            {
              client: setup.options,
              ...(plan.out === undefined ? {} : { out: plan.out }),
              ...(api === undefined ? {} : { api }),
              env: ctx.io.env,
              ...(exec ? { exec } : {}),
              ...plan.state,
              ...(plan.mode === undefined ? {} : { mode: plan.mode }),
              ...(status ? { statusFile: absolute(status) } : {}),
            },
            ctx.stopSignal(),
            log,
          );
        }),
      );
      return results.some((r) => r.stale) ? EXIT_STALE : 0;
    } finally {
      await api?.close();
    }
  },
};

/** A refusal at start: exit 2, one line (DESIGN §8 agent, issue 16 "Bad input"). */
function refuse(message: string): never {
  throw new UsageError(message, NAME, { pointToHelp: false });
}

async function kindOf(path: string): Promise<"dir" | "file" | "missing"> {
  try {
    return (await stat(path)).isDirectory() ? "dir" : "file";
  } catch {
    return "missing";
  }
}

/**
 * Checks the flags against each other and the file system before anything runs, and prepares
 * the folders: FILE's folder exists (or --mkdir creates it), FILE is not a folder, the state is
 * not beside FILE, --mode is octal permission bits.
 */
async function startPlan(
  ctx: CommandContext,
  out: string | undefined,
  absolute: (p: string) => string,
): Promise<{
  out: string | undefined;
  state: { stateDir: string } | { cacheFile: string };
  mode: number | undefined;
}> {
  const modeRaw = stringOption(ctx.values, "mode");
  if (out === undefined) {
    for (const flag of ["mkdir", "mode"]) {
      if (ctx.values[flag] !== undefined) refuse(`--${flag} applies to --out, which is not given`);
    }
  }
  const mode = parseMode(modeRaw);
  const cache = stringOption(ctx.values, "cache");
  const stateRaw = stringOption(ctx.values, "state-dir") ?? ctx.io.env.FLEETCONF_STATE_DIR;
  if (cache !== undefined && stringOption(ctx.values, "state-dir") !== undefined) {
    refuse("--cache and --state-dir both say where the state goes: give one");
  }
  const folder = out === undefined ? null : dirname(out);
  if (out !== undefined && folder !== null) {
    if ((await kindOf(out)) === "dir") refuse(`--out ${out} is a folder; give the file to keep current`);
    const folderKind = await kindOf(folder);
    if (folderKind === "file") refuse(`the folder of --out, ${folder}, is a file`);
    if (folderKind === "missing") {
      if (ctx.values.mkdir !== true)
        refuse(`the folder of --out, ${folder}, does not exist: create it or pass --mkdir`);
      await mkdir(folder, { recursive: true, mode: 0o755 });
    }
  }
  if (cache !== undefined) {
    const file = absolute(cache);
    if (dirname(file) === folder) {
      refuse(
        `--cache ${file} sits beside --out, where a directory-loading application reads it as config; use --state-dir`,
      );
    }
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    return { out, state: { cacheFile: file }, mode };
  }
  const stateDir = absolute(
    stateRaw ??
      join(ctx.io.env.XDG_STATE_HOME ?? join(ctx.io.env.HOME ?? homedir(), ".local", "state"), "fleetconf"),
  );
  if (stateDir === folder) {
    refuse(
      `--state-dir ${stateDir} is the folder of --out, where a directory-loading application reads state as config`,
    );
  }
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  return { out, state: { stateDir }, mode };
}

/** `--bundle NS/NAME --out DIR`: a bundle's member files, the hook once per set (bundle-agent.ts). */
async function runBundle(ctx: CommandContext, bundle: string): Promise<number> {
  let ref: { namespace: string; name: string };
  try {
    ref = parseBundlePath(bundle);
  } catch (error) {
    return refuse(`--bundle ${JSON.stringify(bundle)}: ${(error as Error).message}`);
  }
  for (const flag of ["key", "listen", "status", "cache"]) {
    if (ctx.values[flag] !== undefined || (flag === "key" && ctx.positionals.length > 0)) {
      refuse(`--bundle and --${flag} do not go together (an agent follows a bundle or keys)`);
    }
  }
  const outRaw = stringOption(ctx.values, "out");
  if (!outRaw) refuse("--bundle needs --out DIR, the folder its member files go in");
  const absolute = (p: string) => resolve(isAbsolute(p) ? p : join(ctx.io.cwd, p));
  const outDir = absolute(outRaw);
  // The SDK options (edge, trust, token, long-poll) as for a key of the bundle's namespace.
  const values = await withTokenFile(ctx, absolute);
  const setup = await edgeClientOptions(`${ref.namespace}/${ref.name}`, values, ctx.io, NAME, ctx.fetch);
  const modeRaw = stringOption(ctx.values, "mode");
  const mode = parseMode(modeRaw);
  const kind = await kindOf(outDir);
  if (kind === "file") refuse(`--out ${outDir} is a file; --bundle needs a folder`);
  if (kind === "missing") {
    if (ctx.values.mkdir !== true) refuse(`--out ${outDir} does not exist: create it or pass --mkdir`);
    await mkdir(outDir, { recursive: true, mode: 0o755 });
  }
  const log = (level: string, event: string, fields: Record<string, unknown> = {}) =>
    ctx.out.jsonLine({ time: new Date().toISOString(), level, event, ...fields });
  if (setup.warning) log("warn", "agent.trust", { message: setup.warning });
  const { key: _key, cacheFile: _cache, validate: _validate, ...client } = setup.options;
  const exec = stringOption(ctx.values, "exec");
  await runBundleAgent(
    {
      client: { ...client, bundle: `${ref.namespace}/${ref.name}` },
      outDir,
      env: ctx.io.env,
      ...(exec ? { exec } : {}),
      ...(mode === undefined ? {} : { mode }),
    },
    ctx.stopSignal(),
    log,
  );
  return 0;
}
