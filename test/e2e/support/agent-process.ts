/**
 * A real `fleetconf agent` process for e2e tests: `cli/bin.mjs agent ARGS` (the TypeScript
 * sources through tsx) with only PATH and HOME from the environment, every JSON line it logs on
 * stdout collected as it arrives.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "./stack";

export type LogLine = Record<string, unknown>;

export interface AgentProcess {
  child: ChildProcess;
  /** The agent's log lines so far, in order. */
  lines: LogLine[];
  /** Sends `signal` unless the agent has exited, and resolves with its exit code once it has. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function spawnAgent(args: string[], cwd: string, lines: LogLine[] = []): AgentProcess {
  const child = spawn(process.execPath, [join(REPO_ROOT, "cli", "bin.mjs"), "agent", ...args], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let partial = "";
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) lines.push(JSON.parse(line) as LogLine);
  });
  return {
    child,
    lines,
    stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
