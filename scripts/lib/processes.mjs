/**
 * Child processes that clean up after themselves. Each child leads its own process group, so
 * stopping it also stops what it spawned (wrangler starts workerd and esbuild), and an exit hook
 * kills whatever a crashing parent would otherwise leave behind. Shared by `npm run dev`,
 * `npm test` and the e2e harness.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A port the kernel says is free right now on `host` (bind to 0, read it, release it). */
export function freePort(host = "127.0.0.1") {
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
export async function freePorts(count, host = "127.0.0.1") {
  const ports = new Set();
  while (ports.size < count) ports.add(await freePort(host));
  return [...ports];
}

/** Resolves true when `port` on `host` can be bound now (nobody listens there). */
export function portIsFree(port, host = "127.0.0.1") {
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
export function groupMembers(pgid) {
  let entries;
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
  const members = [];
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

function killGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

const liveGroups = new Set();
const tempDirs = new Set();
let exitHookInstalled = false;
let watchdog;

function cleanUpNow() {
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

function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", cleanUpNow);
}

/** Removes `dir` if this process exits (or dies) before `releaseTempDir(dir)`. */
export function registerTempDir(dir) {
  installExitHook();
  tempDirs.add(dir);
  tellWatchdog(`+dir:${dir}`);
}

/** The caller took care of `dir` (removed it, or keeps it on purpose). */
export function releaseTempDir(dir) {
  tempDirs.delete(dir);
  tellWatchdog(`-dir:${dir}`);
}

/**
 * The exit hook does not run when this process is killed (SIGKILL, or a test runner ending its
 * worker), so a detached watchdog (watchdog.mjs) holds the list too and cleans up when our end
 * of its stdin pipe closes. Unreferenced: it never keeps this process alive.
 */
function tellWatchdog(line) {
  if (!watchdog) {
    watchdog = spawn(process.execPath, [new URL("./watchdog.mjs", import.meta.url).pathname], {
      detached: true,
      stdio: ["pipe", "ignore", "ignore"],
    });
    watchdog.unref();
    watchdog.stdin.unref();
    watchdog.stdin.on("error", () => {});
  }
  watchdog.stdin.write(`${line}\n`);
}

/**
 * For processes that have no signal handling of their own (vitest running the e2e globalSetup):
 * on SIGINT/SIGTERM/SIGHUP, kill every group started here, remove registered temp dirs and exit,
 * so an interrupted test run leaves no wrangler behind. (`npm run dev` handles signals itself and stops gracefully.)
 */
export function stopChildrenOnSignals() {
  installExitHook();
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
    ["SIGHUP", 129],
  ]) {
    process.once(signal, () => {
      cleanUpNow();
      process.exit(code);
    });
  }
}

const MAX_LINES = 20_000;

/**
 * Starts `command` as the leader of a new process group. Every output line goes to `onLine`
 * (stdout and stderr alike) and into `lines` (the last 20k).
 */
export function startProcess(name, command, args, { cwd, env, onLine = () => {} }) {
  installExitHook();
  const child = spawn(command, args, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name}: could not start ${command}`);
  liveGroups.add(pid);
  tellWatchdog(`+${pid}`);
  const lines = [];
  let exitState;
  const exited = new Promise((resolve) => {
    child.once("error", (error) => {
      exitState ??= `error: ${error.message}`;
      resolve(exitState);
    });
    child.once("exit", (code, signal) => {
      exitState = code ?? signal ?? "unknown";
      resolve(exitState);
    });
  });
  for (const stream of [child.stdout, child.stderr]) {
    let partial = "";
    stream.setEncoding("utf8");
    const emit = (line) => {
      lines.push(line);
      if (lines.length > MAX_LINES) lines.splice(0, lines.length - MAX_LINES);
      onLine(line);
    };
    stream.on("data", (chunk) => {
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
