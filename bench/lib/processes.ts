/**
 * Child processes the bench starts: each in its own process group, so stopping it also stops what
 * it spawned (wrangler starts workerd and esbuild). Only these PIDs are ever signalled; an exit
 * hook kills any group still alive if the bench dies, so nothing outlives a run.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, closeSync, openSync, readdirSync, readFileSync } from "node:fs";

const live = new Set<number>();
let hookInstalled = false;

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

function installExitHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  process.once("exit", () => {
    for (const pgid of live) signalGroup(pgid, "SIGKILL");
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => process.exit(130));
  }
}

/** Live, non-zombie members of a process group, read from /proc. */
function groupAlive(pgid: number): boolean {
  for (const entry of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] !== "Z" && Number(fields[2]) === pgid) return true;
    } catch {
      // Ended while we looked.
    }
  }
  return false;
}

export interface BenchProcess {
  readonly name: string;
  readonly pid: number;
  hasExited(): boolean;
  /** SIGTERM the group, SIGKILL after `graceMs`, and wait until no member is left. */
  stop(graceMs?: number): Promise<void>;
}

export function startProcess(
  name: string,
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; logFile: string },
): BenchProcess {
  installExitHook();
  // Output goes straight to the log file (the kernel writes it): a worker logging a line per
  // request must not cost the bench's own event loop, which may be generating the load.
  const fd = openSync(options.logFile, "a");
  const child: ChildProcess = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ["ignore", fd, fd],
  });
  closeSync(fd);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name}: spawn failed`);
  live.add(pid);
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      exited = true;
      appendFileSync(options.logFile, `[${name}] exited: ${code ?? signal}\n`);
      resolve();
    }),
  );
  return {
    name,
    pid,
    hasExited: () => exited,
    async stop(graceMs = 5000) {
      // Once stopped, never signal this group id again: the kernel may reuse it.
      if (!live.has(pid)) return;
      signalGroup(pid, "SIGTERM");
      const deadline = Date.now() + graceMs;
      while (groupAlive(pid) && Date.now() < deadline) await sleep(50);
      if (groupAlive(pid)) signalGroup(pid, "SIGKILL");
      const hardDeadline = Date.now() + 10_000;
      while (groupAlive(pid) && Date.now() < hardDeadline) await sleep(20);
      if (!exited) await Promise.race([exitedPromise, sleep(1000)]);
      live.delete(pid);
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `url` until it answers 2xx, the process exits, or the deadline passes. */
export async function waitForHttp(url: string, timeoutMs: number, proc?: BenchProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc?.hasExited()) throw new Error(`${proc.name} exited before ${url} answered`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await sleep(150);
  }
  throw new Error(`${url} did not answer 2xx within ${timeoutMs} ms`);
}
