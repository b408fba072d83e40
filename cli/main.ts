/**
 * The `fleetconf` CLI: finds the command, parses its arguments, runs it, and turns every outcome
 * into an exit code (0 ok, 1 failure, 2 usage). `main` takes its streams and environment as
 * arguments so tests run it in-process; cli/bin.mjs wires it to the real process.
 */
import type { AdminApi } from "./admin-api";
import { flag, GLOBAL_OPTIONS, parseCommandArgs } from "./args";
import type { Command, CommandContext, CommandEntry } from "./command";
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from "./errors";
import { commandHelp, topLevelHelp } from "./help";
import { type Io, Output } from "./output";
import { adminToken, originUrl } from "./settings";

/**
 * Every command, in `--help` order: its name as typed and where its definition lives. A
 * definition is imported only when its command runs (or its help is asked for), so `fleetconf
 * agent` never loads the admin commands and the zod schemas of origin/contract.ts they parse
 * answers with (BENCHMARKS.md, "Agent start-up and memory"). One line per command:
 *   { name: "x y", load: async () => (await import("./commands/x")).xyCommand },
 */
export const COMMANDS: readonly CommandEntry[] = [
  { name: "publish", load: async () => (await import("./commands/publish")).publishCommand },
  { name: "get", load: async () => (await import("./commands/read")).getCommand },
  { name: "history", load: async () => (await import("./commands/read")).historyCommand },
  { name: "show", load: async () => (await import("./commands/read")).showCommand },
  { name: "diff", load: async () => (await import("./commands/diff")).diffCommand },
  { name: "rollback", load: async () => (await import("./commands/change")).rollbackCommand },
  { name: "delete", load: async () => (await import("./commands/change")).deleteCommand },
  { name: "redact", load: async () => (await import("./commands/change")).redactCommand },
  { name: "promote", load: async () => (await import("./commands/promote")).promoteCommand },
  { name: "rollout start", load: async () => (await import("./commands/rollout")).rolloutStartCommand },
  { name: "rollout status", load: async () => (await import("./commands/rollout")).rolloutStatusCommand },
  { name: "rollout set", load: async () => (await import("./commands/rollout")).rolloutSetCommand },
  { name: "rollout complete", load: async () => (await import("./commands/rollout")).rolloutCompleteCommand },
  { name: "rollout abort", load: async () => (await import("./commands/rollout")).rolloutAbortCommand },
  { name: "schema set", load: async () => (await import("./commands/schema")).schemaSetCommand },
  { name: "schema get", load: async () => (await import("./commands/schema")).schemaGetCommand },
  { name: "schema delete", load: async () => (await import("./commands/schema")).schemaDeleteCommand },
  { name: "audit", load: async () => (await import("./commands/audit")).auditCommand },
  { name: "changes list", load: async () => (await import("./commands/changes")).changesListCommand },
  { name: "changes show", load: async () => (await import("./commands/changes")).changesShowCommand },
  { name: "changes approve", load: async () => (await import("./commands/changes")).changesApproveCommand },
  { name: "changes reject", load: async () => (await import("./commands/changes")).changesRejectCommand },
  { name: "namespace set", load: async () => (await import("./commands/namespace")).namespaceSetCommand },
  { name: "namespace get", load: async () => (await import("./commands/namespace")).namespaceGetCommand },
  { name: "token", load: async () => (await import("./commands/token")).tokenCommand },
  { name: "keys generate", load: async () => (await import("./commands/keys")).keysGenerateCommand },
  { name: "keys rotate", load: async () => (await import("./commands/keys")).keysRotateCommand },
  { name: "keys retire", load: async () => (await import("./commands/keys")).keysRetireCommand },
  { name: "keys root-key", load: async () => (await import("./commands/keys-root")).keysRootKeyCommand },
  { name: "agent", load: async () => (await import("./commands/agent")).agentCommand },
  { name: "watch", load: async () => (await import("./commands/watch")).watchCommand },
  { name: "fleet", load: async () => (await import("./commands/fleet")).fleetCommand },
  { name: "status", load: async () => (await import("./commands/fleet")).statusCommand },
];

/** Every definition, in table order: only the command list (`fleetconf --help`) needs them all. */
export function loadAllCommands(): Promise<Command[]> {
  return Promise.all(COMMANDS.map((entry) => entry.load()));
}

export const VERSION = "0.1.0";

export interface MainOptions {
  fetch?: typeof fetch;
  /** Installs SIGINT/SIGTERM handling on first call; tests pass their own signal. */
  stopSignal?: () => AbortSignal;
}

/** Finds the command named by the leading words of argv ("namespace set KEY…" → "namespace set"). */
export function findCommand(argv: readonly string[]): { command: CommandEntry; rest: string[] } | null {
  const two = `${argv[0] ?? ""} ${argv[1] ?? ""}`;
  const byTwo = COMMANDS.find((c) => c.name === two);
  if (byTwo) return { command: byTwo, rest: argv.slice(2) };
  const byOne = COMMANDS.find((c) => c.name === argv[0]);
  return byOne ? { command: byOne, rest: argv.slice(1) } : null;
}

/**
 * Moves global options written before the command (`fleetconf --json history KEY`) after it, so
 * the command name is always first; option values (`--origin URL`) travel with their option.
 */
export function hoistGlobalOptions(argv: readonly string[]): string[] {
  const leading: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const token = argv[i] as string;
    const name = token.replace(/^--?/, "").split("=")[0] ?? "";
    const spec = (GLOBAL_OPTIONS as Record<string, { type: string; short?: string }>)[name];
    if (!token.startsWith("-") || token === "-h" || token === "--help" || !spec) break;
    leading.push(token);
    if (spec.type === "string" && !token.includes("=") && i + 1 < argv.length)
      leading.push(argv[++i] as string);
    i++;
  }
  return [...argv.slice(i), ...leading];
}

export async function main(rawArgv: string[], io: Io, options: MainOptions = {}): Promise<number> {
  const argv = hoistGlobalOptions(rawArgv);
  const out = new Output(io, { json: argv.includes("--json"), noColor: argv.includes("--no-color") });
  const first = argv[0];
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    const target = first === "help" ? findCommand(argv.slice(1)) : null;
    io.stdout.write(
      target ? commandHelp(await target.command.load()) : topLevelHelp(await loadAllCommands(), VERSION),
    );
    return first === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (first === "--version" || first === "-v") {
    io.stdout.write(`${VERSION}\n`);
    return EXIT_OK;
  }
  const found = findCommand(argv);
  if (!found) {
    const group = COMMANDS.filter((c) => c.name.startsWith(`${first} `));
    if (group.length > 0) {
      out.error(
        new UsageError(`${first} needs a subcommand: ${group.map((c) => c.name.split(" ")[1]).join(", ")}`),
      );
    } else {
      out.error(new UsageError(`unknown command ${JSON.stringify(first)}`));
    }
    return EXIT_USAGE;
  }
  const { rest } = found;
  try {
    const command = await found.command.load();
    const parsed = parseCommandArgs(command.name, rest, command.options, command.positionals);
    if (flag(parsed.values, "help")) {
      io.stdout.write(commandHelp(command));
      return EXIT_OK;
    }
    const fetcher = options.fetch ?? globalThis.fetch;
    let api: AdminApi | undefined;
    let stop: AbortSignal | undefined;
    const ctx: CommandContext = {
      io,
      out,
      values: parsed.values,
      positionals: parsed.positionals,
      fetch: fetcher,
      async api() {
        // Imported here, not at the top: the admin API's answer schemas are zod (origin/contract.ts).
        const { AdminApi } = await import("./admin-api");
        api ??= new AdminApi(
          originUrl(parsed.values, io.env),
          await adminToken(parsed.values, io.env, io.cwd),
          fetcher,
        );
        return api;
      },
      stopSignal() {
        stop ??= options.stopSignal ? options.stopSignal() : new AbortController().signal;
        return stop;
      },
    };
    return (await command.run(ctx)) ?? EXIT_OK;
  } catch (error) {
    out.error(error);
    if (error instanceof UsageError) return EXIT_USAGE;
    if (error instanceof CliError) return EXIT_FAILURE;
    return EXIT_FAILURE;
  }
}
