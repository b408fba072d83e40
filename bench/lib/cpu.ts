/**
 * CPU time the servers spend, read from /proc: a throughput figure on a shared 2-CPU machine
 * moves with whatever else runs; the CPU a server burns per request moves far less (a starved
 * process still pays somewhat more per request), so it is the steadier way to compare the edge
 * with the bare worker.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const out = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim();
    ticksPerSecond = out && /^[0-9]+$/.test(out) ? Number(out) : 100;
  }
  return ticksPerSecond;
}

interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  pgid: number;
  /** utime + stime of all the process's threads, in seconds. */
  cpuSeconds: number;
}

function readStat(pid: number): ProcStat | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    // Fields after the command: state(3) ppid(4) pgrp(5) … utime(14) stime(15).
    const fields = stat.slice(close + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return {
      pid,
      comm,
      ppid: Number(fields[1]),
      pgid: Number(fields[2]),
      cpuSeconds: (utime + stime) / clockTicks(),
    };
  } catch {
    return null;
  }
}

function allStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) out.push(stat);
  }
  return out;
}

/** Every process in a process group (a `wrangler dev` and the workerd processes it started). */
export function groupPids(pgid: number): number[] {
  return allStats()
    .filter((s) => s.pgid === pgid)
    .map((s) => s.pid);
}

/** workerd processes started by this Node process (Miniflare's runtime). */
export function ownWorkerdPids(): number[] {
  return allStats()
    .filter((s) => s.ppid === process.pid && s.comm === "workerd")
    .map((s) => s.pid);
}

/** Total CPU seconds used so far by these processes. */
export function cpuSecondsOf(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) total += readStat(pid)?.cpuSeconds ?? 0;
  return total;
}
