/** The top-level `fleetconf --help` text. Each command's own help lives beside it. */
import type { Command } from "./command";

export const GLOBAL_HELP = `Global options:
  --json              machine-readable output: one JSON document on stdout (errors: JSON on stderr)
  --origin URL        admin API (env FLEETCONF_ORIGIN, default http://127.0.0.1:8788)
  --edge URL          read API (env FLEETCONF_EDGE, default http://127.0.0.1:8787)
  --token TOKEN       admin token (env FLEETCONF_TOKEN; else minted from .dev.vars for local dev)
  --dev-vars FILE     local secrets file (env FLEETCONF_DEV_VARS, default ./.dev.vars)
  --no-color          no colours (also NO_COLOR=1, or when output is not a terminal)
  -h, --help          help for any command

Exit codes: 0 success, 1 failure, 2 usage error.`;

export function topLevelHelp(commands: readonly Command[], version: string): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `fleetconf ${version} — publish configs to the fleetconf origin and fetch them, verified, from the edge.

Usage: fleetconf <command> [options]

Commands:
${lines.join("\n")}

${GLOBAL_HELP}

Docs: docs/cli.md (walk-through), docs/client.md (SDK and agent).
`;
}

export function commandHelp(command: Command): string {
  return `Usage: fleetconf ${command.usage}

${command.summary}

${command.help.trim()}

${GLOBAL_HELP}
`;
}
