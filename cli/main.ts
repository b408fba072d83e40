/**
 * The `fleetconf` CLI: finds the command, parses its arguments, runs it, and turns every outcome
 * into an exit code (0 ok, 1 failure, 2 usage). `main` takes its streams and environment as
 * arguments so tests run it in-process; cli/bin.mjs wires it to the real process.
 */
import { AdminApi } from "./admin-api";
import { flag, GLOBAL_OPTIONS, parseCommandArgs } from "./args";
import type { Command, CommandContext } from "./command";
import { agentCommand } from "./commands/agent";
import { auditCommand } from "./commands/audit";
import { deleteCommand, redactCommand, rollbackCommand } from "./commands/change";
import {
  changesApproveCommand,
  changesListCommand,
  changesRejectCommand,
  changesShowCommand,
} from "./commands/changes";
import { diffCommand } from "./commands/diff";
import { fleetCommand, statusCommand } from "./commands/fleet";
import { keysGenerateCommand, keysRetireCommand, keysRotateCommand } from "./commands/keys";
import { keysRootKeyCommand } from "./commands/keys-root";
import { namespaceGetCommand, namespaceSetCommand } from "./commands/namespace";
import { publishCommand } from "./commands/publish";
import { getCommand, historyCommand, showCommand } from "./commands/read";
import {
  rolloutAbortCommand,
  rolloutCompleteCommand,
  rolloutSetCommand,
  rolloutStartCommand,
  rolloutStatusCommand,
} from "./commands/rollout";
import { schemaDeleteCommand, schemaGetCommand, schemaSetCommand } from "./commands/schema";
import { tokenCommand } from "./commands/token";
import { watchCommand } from "./commands/watch";
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from "./errors";
import { commandHelp, topLevelHelp } from "./help";
import { type Io, Output } from "./output";
import { adminToken, originUrl } from "./settings";

export const COMMANDS: readonly Command[] = [
  publishCommand,
  getCommand,
  historyCommand,
  showCommand,
  diffCommand,
  rollbackCommand,
  deleteCommand,
  redactCommand,
  rolloutStartCommand,
  rolloutStatusCommand,
  rolloutSetCommand,
  rolloutCompleteCommand,
  rolloutAbortCommand,
  schemaSetCommand,
  schemaGetCommand,
  schemaDeleteCommand,
  auditCommand,
  changesListCommand,
  changesShowCommand,
  changesApproveCommand,
  changesRejectCommand,
  namespaceSetCommand,
  namespaceGetCommand,
  tokenCommand,
  keysGenerateCommand,
  keysRotateCommand,
  keysRetireCommand,
  keysRootKeyCommand,
  agentCommand,
  watchCommand,
  fleetCommand,
  statusCommand,
];

export const VERSION = "0.1.0";

export interface MainOptions {
  fetch?: typeof fetch;
  /** Installs SIGINT/SIGTERM handling on first call; tests pass their own signal. */
  stopSignal?: () => AbortSignal;
}

/** Finds the command named by the leading words of argv ("namespace set KEY…" → "namespace set"). */
export function findCommand(argv: readonly string[]): { command: Command; rest: string[] } | null {
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
    io.stdout.write(target ? commandHelp(target.command) : topLevelHelp(COMMANDS, VERSION));
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
  const { command, rest } = found;
  try {
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
