/**
 * One benchmark run's settings and shared state: quick or full sizes, the load tool, the temp
 * dir (`/tmp/fleetconf-bench-<stamp>`: state, logs, secrets), and fresh secrets written as env
 * files the way `npm run dev` and the e2e harness give them to each worker.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  EDGE_SECRET_NAMES,
  type FleetconfSecrets,
  generateSecrets,
  renderDotenv,
} from "../../scripts/lib/secrets";
import type { LoadTool } from "./load";
import { REPO_ROOT } from "./wrangler";

export interface RunSizes {
  /** Seconds per load run. */
  durationS: number;
  /** A/B rounds per comparison (each round runs A then B). */
  rounds: number;
  connections: number;
  /** Unrecorded load per variant before the first round; 0 skips it. */
  warmupS: number;
  breakdownDurationS: number;
  sizeDurationS: number;
  /** Whether the size section also measures the bare worker at every size. */
  sizeWithBare: boolean;
  /** Pause after each size run (a 1 MiB run leaves megabytes draining). */
  settleMs: number;
  coldKeys: number;
  publishes: number;
  concurrentPublishes: number;
  propagationPublishes: number;
  fleetSizes: number[];
  fleetIntervalMs: number;
  fleetWindowS: number;
  /** Long-polling fleet (issue 13): clients, publishes measured while they wait, wait asked. */
  longPollClients: number;
  longPollPublishes: number;
  longPollWaitS: number;
  memoryKeys: number;
  memoryBudgetBytes: number;
  memoryPasses: number;
}

export const FULL: RunSizes = {
  durationS: 8,
  rounds: 3,
  connections: 32,
  warmupS: 1,
  breakdownDurationS: 4,
  sizeDurationS: 4,
  sizeWithBare: true,
  settleMs: 1000,
  coldKeys: 1000,
  publishes: 100,
  concurrentPublishes: 200,
  propagationPublishes: 100,
  fleetSizes: [500, 1000, 2000],
  fleetIntervalMs: 1000,
  fleetWindowS: 5,
  longPollClients: 2000,
  longPollPublishes: 10,
  longPollWaitS: 30,
  memoryKeys: 1000,
  memoryBudgetBytes: 32 * 1024 * 1024,
  memoryPasses: 2,
};

export const QUICK: RunSizes = {
  durationS: 1,
  rounds: 1,
  connections: 32,
  warmupS: 0,
  breakdownDurationS: 1,
  sizeDurationS: 1,
  sizeWithBare: false,
  settleMs: 300,
  coldKeys: 100,
  publishes: 10,
  concurrentPublishes: 16,
  propagationPublishes: 10,
  fleetSizes: [200],
  fleetIntervalMs: 1000,
  fleetWindowS: 2,
  longPollClients: 200,
  longPollPublishes: 3,
  longPollWaitS: 10,
  memoryKeys: 100,
  memoryBudgetBytes: 2 * 1024 * 1024,
  memoryPasses: 2,
};

export interface BenchContext {
  quick: boolean;
  sizes: RunSizes;
  tool: LoadTool;
  workDir: string;
  logFile: string;
  secrets: FleetconfSecrets;
  /** Where the workers' sources are built from: the repo, or a frozen copy (lib/snapshot.ts). */
  sourceRoot: string;
  edgeEnvFile: string;
  originEnvFile: string;
  /** A fresh dir under the run's temp dir. */
  dir(name: string): string;
  /** Removes the run's state and secrets, keeping only workers.log. */
  cleanup(): void;
}

export function createContext(options: {
  quick: boolean;
  tool: LoadTool;
  stamp: string;
  sourceRoot?: string;
}): BenchContext {
  const workDir = join("/tmp", `fleetconf-bench-${options.stamp}`);
  mkdirSync(workDir, { recursive: true });
  const secrets = generateSecrets();
  const edgeEnvFile = join(workDir, "edge.env");
  const originEnvFile = join(workDir, "origin.env");
  // The edge gets only what it gets in production: no private key, no admin secret.
  const edgeSecrets = Object.fromEntries(EDGE_SECRET_NAMES.map((name) => [name, secrets[name]]));
  writeFileSync(edgeEnvFile, renderDotenv(edgeSecrets, "bench edge secrets"), { mode: 0o600 });
  writeFileSync(originEnvFile, renderDotenv({ ...secrets }, "bench origin secrets"), { mode: 0o600 });
  const logFile = join(workDir, "workers.log");
  writeFileSync(logFile, "");
  return {
    quick: options.quick,
    sizes: options.quick ? QUICK : FULL,
    tool: options.tool,
    workDir,
    logFile,
    secrets,
    sourceRoot: options.sourceRoot ?? REPO_ROOT,
    edgeEnvFile,
    originEnvFile,
    cleanup() {
      for (const entry of readdirSync(workDir)) {
        if (entry !== "workers.log") rmSync(join(workDir, entry), { recursive: true, force: true });
      }
    },
    dir(name) {
      const path = join(workDir, name);
      mkdirSync(path, { recursive: true });
      return path;
    },
  };
}

export interface Probe {
  status: number;
  etag: string | null;
  version: string | null;
  cacheStatus: string | null;
  bytes: number;
}

/** One request, to check what a load run is about to measure (status, tier, ETag). */
export async function probe(url: string, headers: Record<string, string> = {}): Promise<Probe> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
  const body = new Uint8Array(await res.arrayBuffer());
  return {
    status: res.status,
    etag: res.headers.get("ETag"),
    version: res.headers.get("Config-Version"),
    cacheStatus: res.headers.get("Cache-Status"),
    bytes: body.length,
  };
}
