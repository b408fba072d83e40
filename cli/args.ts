/**
 * Command-line parsing on `node:util` parseArgs: every command declares its options; the global
 * ones (--json, --origin, --edge, --token, --dev-vars, --no-color, --help) are accepted
 * everywhere. Errors become `UsageError` (exit 2), and values are read through typed accessors so
 * a command never handles a raw string where it wants a number.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { UsageError } from "./errors";

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;
export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export const GLOBAL_OPTIONS = {
  json: { type: "boolean" },
  origin: { type: "string" },
  edge: { type: "string" },
  token: { type: "string" },
  "dev-vars": { type: "string" },
  "no-color": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionSpec;

export interface ParsedArgs {
  values: OptionValues;
  positionals: string[];
}

export function parseCommandArgs(
  command: string,
  argv: string[],
  options: OptionSpec,
  positionals: { min: number; max: number },
): ParsedArgs {
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...GLOBAL_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    }) as ParsedArgs;
  } catch (error) {
    throw new UsageError(error instanceof Error ? cleanParseError(error.message) : String(error), command);
  }
  if (parsed.values.help) return parsed;
  const count = parsed.positionals.length;
  if (count < positionals.min) throw new UsageError("missing arguments", command);
  if (count > positionals.max) {
    throw new UsageError(
      `unexpected argument ${JSON.stringify(parsed.positionals[positionals.max])}`,
      command,
    );
  }
  return parsed;
}

// parseArgs messages end with advice about `--` meant for script authors; keep the first sentence.
function cleanParseError(message: string): string {
  return message.split(". To specify")[0]?.replace(/\.$/, "") ?? message;
}

export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}

export function flag(values: OptionValues, name: string): boolean {
  return values[name] === true;
}

export function integerOption(
  values: OptionValues,
  name: string,
  range: { min: number; max: number },
  command: string,
): number | undefined {
  const raw = stringOption(values, name);
  if (raw === undefined) return undefined;
  if (!/^[0-9]{1,15}$/.test(raw) || Number(raw) < range.min || Number(raw) > range.max) {
    throw new UsageError(`--${name} must be an integer from ${range.min} to ${range.max}`, command);
  }
  return Number(raw);
}

/** A version argument: a positive integer. */
export function parseVersionArg(raw: string | undefined, what: string, command: string): number {
  if (raw === undefined || !/^[1-9][0-9]{0,14}$/.test(raw)) {
    throw new UsageError(`${what} must be a positive integer, got ${JSON.stringify(raw ?? "")}`, command);
  }
  return Number(raw);
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** A duration in seconds from `3600`, `90s`, `15m`, `12h`, `7d` or `2w`. */
export function parseDuration(raw: string, what: string, command: string): number {
  const match = /^([0-9]{1,9})([smhdw]?)$/.exec(raw.trim());
  if (!match?.[1]) throw new UsageError(`${what} must be a duration like 3600, 15m, 12h or 7d`, command);
  return Number(match[1]) * (DURATION_UNITS[match[2] || "s"] ?? 1);
}
