/**
 * Child processes that clean up after themselves: the one process supervisor of `npm run dev`,
 * `npm test`, the e2e harness and the bench. Each child leads its own process group, so stopping
 * it also stops what it spawned (wrangler starts workerd and esbuild), and an exit hook plus a
 * detached watchdog kill whatever a crashing parent would otherwise leave behind.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, closeSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A port the kernel says is free right now on `host` (bind to 0, read it, release it). */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("no port assigned"));
      });
    });
  });
}

/** Distinct free ports: the kernel may hand a just-released port out again, so dedupe. */
export async function freePorts(count: number, host = "127.0.0.1"): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort(host));
  return [...ports];
}

/** Resolves true when `port` on `host` can be bound now (nobody listens there). */
export function portIsFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * Live (non-zombie) members of a process group. Read from /proc because `kill(-pgid, 0)` also
 * succeeds for zombies, which a container's init may be slow to reap; elsewhere fall back to it.
 */
export function groupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    try {
      process.kill(-pgid, 0);
      return [pgid];
    } catch {
      return [];
    }
  }
  const members: number[] = [];
  for (const entry of entries) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // After the parenthesised command come: state ppid pgrp …
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] !== "Z" && Number(fields[2]) === pgid) members.push(Number(entry));
    } catch {
      // It ended while we looked.
    }
  }
  return members;
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

const liveGroups = new Set<number>();
const tempDirs = new Set<string>();
let exitHookInstalled = false;
let watchdog: ChildProcess | undefined;

function cleanUpNow(): void {
  for (const pgid of liveGroups) killGroup(pgid, "SIGKILL");
  // Synchronous and best effort: a SIGKILLed workerd may still hold files for a moment, in which
  // case the watchdog, which waits for the groups to go, removes what is left.
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Left to the watchdog.
    }
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", cleanUpNow);
}

/** Removes `dir` if this process exits (or dies) before `releaseTempDir(dir)`. */
export function registerTempDir(dir: string): void {
  installExitHook();
  tempDirs.add(dir);
  tellWatchdog(`+dir:${dir}`);
}

/** The caller took care of `dir` (removed it, or keeps it on purpose). */
export function releaseTempDir(dir: string): void {
  tempDirs.delete(dir);
  tellWatchdog(`-dir:${dir}`);
}

/**
 * The exit hook does not run when this process is killed (SIGKILL, or a test runner ending its
 * worker), so a detached watchdog (watchdog.ts) holds the list too and cleans up when our end
 * of its stdin pipe closes. Unreferenced: it never keeps this process alive. It runs under tsx
 * (`--import tsx`, resolved from the repo root, where `npm ci` put it).
 */
function tellWatchdog(line: string): void {
  if (!watchdog) {
    const started = spawn(
      process.execPath,
      ["--import", "tsx", join(REPO_ROOT, "scripts", "lib", "watchdog.ts")],
      {
        cwd: REPO_ROOT,
        detached: true,
        stdio: ["pipe", "ignore", "ignore"],
      },
    );
    started.unref();
    started.stdin?.on("error", () => {});
    // A "pipe" stdio is a net.Socket at run time (Node's docs); Writable's type lacks unref().
    (started.stdin as Socket | null)?.unref();
    watchdog = started;
  }
  watchdog.stdin?.write(`${line}\n`);
}

/**
 * For processes that have no signal handling of their own (vitest running the e2e globalSetup,
 * the bench): on SIGINT/SIGTERM/SIGHUP, kill every group started here, remove registered temp
 * dirs and exit, so an interrupted run leaves no wrangler behind. (`npm run dev` handles signals
 * itself and stops gracefully.) Installing it twice is harmless.
 */
let signalHandlersInstalled = false;
export function stopChildrenOnSignals(): void {
  installExitHook();
  if (signalHandlersInstalled) return;
  signalHandlersInstalled = true;
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
    ["SIGHUP", 129],
  ] as const) {
    process.once(signal, () => {
      cleanUpNow();
      process.exit(code);
    });
  }
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** Output lines so far (the last 20k), stdout and stderr interleaved; empty with `logFile`. */
  readonly lines: string[];
  /** Resolves with the exit code, the signal name, or `error: …` when spawning failed. */
  readonly exited: Promise<number | string>;
  hasExited(): boolean;
  exitState(): number | string | undefined;
  /** SIGTERM the group, SIGKILL it after `graceMs` (default 5 s), wait until no member is left. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Called with every output line (not with `logFile`). */
  onLine?: (line: string) => void;
  /**
   * Send stdout and stderr straight to this file (the kernel writes it) instead of reading them:
   * a worker logging a line per request must not cost the event loop of a process generating
   * the load (the bench). `lines` stays empty; the exit state is appended to the file.
   */
  logFile?: string;
}

const MAX_LINES = 20_000;

/**
 * Starts `command` as the leader of a new process group. Every output line goes to `onLine`
 * (stdout and stderr alike) and into `lines` (the last 20k), unless `logFile` is given.
 */
export function startProcess(
  name: string,
  command: string,
  args: readonly string[],
  { cwd, env, onLine = () => {}, logFile }: StartOptions,
): ManagedProcess {
  installExitHook();
  let child: ChildProcess;
  if (logFile) {
    const fd = openSync(logFile, "a");
    child = spawn(command, args, { cwd, env, detached: true, stdio: ["ignore", fd, fd] });
    closeSync(fd);
  } else {
    child = spawn(command, args, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name}: could not start ${command}`);
  liveGroups.add(pid);
  tellWatchdog(`+${pid}`);
  const lines: string[] = [];
  let exitState: number | string | undefined;
  const exited = new Promise<number | string>((resolve) => {
    child.once("error", (error) => {
      exitState ??= `error: ${error.message}`;
      resolve(exitState);
    });
    child.once("exit", (code, signal) => {
      exitState = code ?? signal ?? "unknown";
      if (logFile) appendFileSync(logFile, `[${name}] exited: ${exitState}\n`);
      resolve(exitState);
    });
  });
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    let partial = "";
    stream.setEncoding("utf8");
    const emit = (line: string) => {
      lines.push(line);
      if (lines.length > MAX_LINES) lines.splice(0, lines.length - MAX_LINES);
      onLine(line);
    };
    stream.on("data", (chunk: string) => {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) emit(line);
    });
    stream.on("end", () => {
      if (partial.length > 0) emit(partial);
      partial = "";
    });
  }
  return {
    name,
    pid,
    lines,
    exited,
    hasExited: () => exitState !== undefined,
    exitState: () => exitState,
    async stop(graceMs = 5000) {
      // Once stopped, never signal this group id again: the kernel may reuse it.
      if (!liveGroups.has(pid)) return;
      killGroup(pid, "SIGTERM");
      const deadline = Date.now() + graceMs;
      while (groupMembers(pid).length > 0 && Date.now() < deadline) await sleep(50);
      if (groupMembers(pid).length > 0) killGroup(pid, "SIGKILL");
      while (groupMembers(pid).length > 0) await sleep(20);
      await exited;
      liveGroups.delete(pid);
      tellWatchdog(`-${pid}`);
    },
  };
}

/**
 * Polls `url` until it answers 2xx; throws if `proc` exits first, if time runs out, or if the
 * server keeps answering 5xx for `failFastMs` (a broken secret or binding: waiting won't help).
 */
export async function waitForHttp(
  url: string,
  {
    proc,
    timeoutMs = 90_000,
    intervalMs = 150,
    failFastMs = 8000,
  }: { proc?: ManagedProcess; timeoutMs?: number; intervalMs?: number; failFastMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let failingSince: number | undefined;
  while (Date.now() < deadline) {
    if (proc?.hasExited())
      throw new Error(`${proc.name} exited (${proc.exitState()}) before ${url} answered`);
    let answer: { status: number; body: string } | undefined;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      answer = { status: response.status, body: await response.text() };
    } catch {
      failingSince = undefined; // Not listening yet.
    }
    if (answer && answer.status >= 200 && answer.status < 300) return;
    if (answer && answer.status >= 500) {
      failingSince ??= Date.now();
      if (Date.now() - failingSince > failFastMs) {
        throw new Error(`${url} keeps answering ${answer.status}: ${answer.body.slice(0, 300)}`);
      }
    }
    await sleep(intervalMs);
  }
  throw new Error(`${url} did not answer 2xx within ${timeoutMs} ms`);
}
