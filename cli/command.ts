/**
 * What every CLI command is and receives. Commands are plain objects; cli/main.ts lists each as a
 * CommandEntry that imports its module only when the command runs.
 */
import { parseKey } from "../core/keys";
import type { AdminApi } from "./admin-api";
import type { OptionSpec, OptionValues } from "./args";
import { UsageError } from "./errors";
import type { Io, Output } from "./output";

export interface CommandContext {
  io: Io;
  out: Output;
  values: OptionValues;
  positionals: string[];
  fetch: typeof fetch;
  /** The admin API with the resolved origin and token (resolved on first use). */
  api(): Promise<AdminApi>;
  /** Aborted on SIGINT/SIGTERM; long-running commands (agent, watch) stop cleanly on it. */
  stopSignal(): AbortSignal;
}

export interface Command {
  /** As typed: "publish", "namespace set". */
  name: string;
  summary: string;
  /** The full `--help` text after the usage line. */
  help: string;
  usage: string;
  options: OptionSpec;
  positionals: { min: number; max: number };
  /** Resolves with the exit code (0 when omitted). */
  run(ctx: CommandContext): Promise<number | undefined>;
}

/** A row of the command table (cli/main.ts): enough to dispatch without loading the command. */
export interface CommandEntry {
  /** As typed, and as the loaded definition names itself. */
  name: string;
  /** Imports the command's module (`import()`), so a command loads only what it uses. */
  load(): Promise<Command>;
}

/** A key argument, checked with core's rules so a typo fails here (exit 2), not at the origin. */
export function keyArg(raw: string | undefined, command: string): string {
  const parsed = parseKey(raw ?? "");
  if (!parsed.ok) throw new UsageError(`invalid key ${JSON.stringify(raw ?? "")}: ${parsed.reason}`, command);
  return parsed.value.key;
}

/** The n-th positional, which parseCommandArgs has already guaranteed to exist. */
export function positional(ctx: CommandContext, index: number): string {
  const value = ctx.positionals[index];
  if (value === undefined) throw new UsageError("missing arguments");
  return value;
}
