/**
 * The bench's child processes, run by the repo's one process supervisor (scripts/lib/processes.ts):
 * each in its own process group, output straight to a log file (the kernel writes it, so a worker
 * logging a line per request costs the load generator's event loop nothing), killed by an exit
 * hook, a signal handler and a watchdog if the bench dies, so nothing outlives a run.
 */
import {
  type ManagedProcess,
  sleep,
  startProcess as startSupervised,
  stopChildrenOnSignals,
  waitForHttp as waitForHealthy,
} from "../../scripts/lib/processes";

export { sleep };
export type BenchProcess = ManagedProcess;

export function startProcess(
  name: string,
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; logFile: string },
): BenchProcess {
  stopChildrenOnSignals();
  return startSupervised(name, command, args, options);
}

/** Polls `url` until it answers 2xx, the process exits, or the deadline passes. */
export function waitForHttp(url: string, timeoutMs: number, proc?: BenchProcess): Promise<void> {
  return waitForHealthy(url, { timeoutMs, ...(proc ? { proc } : {}) });
}
