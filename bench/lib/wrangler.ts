/**
 * `wrangler dev` processes for the bench, started by the repo's one wrangler launcher
 * (scripts/lib/wrangler.ts): offline, on ports from the bench range, each with its own inspector
 * port, a `--persist-to` under the run's temp dir and (for stacks that bind each other) a private
 * dev registry so the origin's EDGE binding finds this run's edge only.
 */

import { stopChildrenOnSignals } from "../../scripts/lib/processes";
import {
  startWranglerDev as launch,
  REPO_ROOT,
  wranglerDevArgs,
  wranglerEnv,
} from "../../scripts/lib/wrangler";
import { groupPids } from "./cpu";
import { allocatePorts } from "./ports";

export { REPO_ROOT };

export interface DevWorker {
  name: string;
  url: string;
  port: number;
  inspectorPort: number;
  /** Its processes (wrangler's Node process and the workerd processes it runs), for CPU accounting. */
  pids(): number[];
  stop(): Promise<void>;
}

export interface DevWorkerOptions {
  name: string;
  /** The directory the config path is relative to (the repo, or a frozen copy of it). */
  root?: string;
  /** Wrangler config, relative to the repo root. */
  config: string;
  persistTo: string;
  logFile: string;
  envFile?: string;
  vars?: Record<string, string>;
  /** Shared by workers that bind each other (origin → edge). */
  registry?: string;
  /** wrangler's own log level; "warn" drops its per-request access lines (not the worker's logs). */
  logLevel?: "info" | "log" | "warn" | "error";
  startTimeoutMs?: number;
}

export async function startWranglerDev(options: DevWorkerOptions): Promise<DevWorker> {
  const [port, inspectorPort] = await allocatePorts(2);
  if (port === undefined || inspectorPort === undefined) throw new Error("no ports");
  stopChildrenOnSignals();
  const url = `http://127.0.0.1:${port}`;
  try {
    const proc = await launch({
      name: options.name,
      args: wranglerDevArgs({
        config: options.config,
        port,
        inspectorPort,
        persistTo: options.persistTo,
        logLevel: options.logLevel ?? "warn",
        ...(options.envFile ? { envFile: options.envFile } : {}),
        ...(options.vars ? { vars: options.vars } : {}),
      }),
      cwd: options.root ?? REPO_ROOT,
      env: wranglerEnv({
        NO_COLOR: "1",
        FORCE_COLOR: "0",
        ...(options.registry ? { WRANGLER_REGISTRY_PATH: options.registry } : {}),
      }),
      logFile: options.logFile,
      healthUrl: `${url}/healthz`,
      timeoutMs: options.startTimeoutMs ?? 90_000,
    });
    return {
      name: options.name,
      url,
      port,
      inspectorPort,
      pids: () => groupPids(proc.pid),
      stop: () => proc.stop(),
    };
  } catch (error) {
    throw new Error(
      `${options.name}: ${error instanceof Error ? error.message : String(error)} (log: ${options.logFile})`,
    );
  }
}
