/** The machine a run measured: what BENCHMARKS.md must state for the numbers to mean anything. */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "./wrangler";

export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  wrangler: string;
  miniflare: string;
  wrk: string | null;
  nginx: string | null;
  /** 1-minute load average when the run started. */
  loadAverage: number;
  /** workerd processes this run did not start, alive when it started (other stacks share the CPUs). */
  foreignWorkerd: number;
}

function packageVersion(name: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "node_modules", name, "package.json"), "utf8"));
    return String(pkg.version);
  } catch {
    return "unknown";
  }
}

function toolVersion(command: string, args: string[], pattern: RegExp): string | null {
  const result = spawnSync(command, args, { encoding: "utf8" });
  if (result.error) return null;
  return pattern.exec(`${result.stdout}${result.stderr}`)?.[1] ?? "unknown";
}

export function countWorkerd(): number {
  let count = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() === "workerd") count++;
    } catch {
      // Ended while we looked.
    }
  }
  return count;
}

export function machineInfo(): MachineInfo {
  return {
    nproc: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    wrangler: packageVersion("wrangler"),
    miniflare: packageVersion("miniflare"),
    wrk: toolVersion("wrk", ["--version"], /wrk (\S+)/),
    nginx: toolVersion("nginx", ["-v"], /nginx\/([0-9.]+)/),
    loadAverage: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    foreignWorkerd: countWorkerd(),
  };
}
