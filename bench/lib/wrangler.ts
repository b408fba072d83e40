/**
 * `wrangler dev` processes for the bench, offline, on ports from the bench range, each with its
 * own inspector port, a `--persist-to` under the run's temp dir and (for stacks that bind each
 * other) a private dev registry so the origin's EDGE binding finds this run's edge only.
 */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { groupPids } from "./cpu";
import { allocatePorts } from "./ports";
import { type BenchProcess, startProcess, waitForHttp } from "./processes";

export const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const WRANGLER = join(REPO_ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

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
  const args = [
    WRANGLER,
    "dev",
    "-c",
    options.config,
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(inspectorPort),
    "--persist-to",
    options.persistTo,
    "--show-interactive-dev-session=false",
    "--log-level",
    options.logLevel ?? "warn",
  ];
  if (options.envFile) args.push("--env-file", options.envFile);
  for (const [name, value] of Object.entries(options.vars ?? {})) args.push("--var", `${name}:${value}`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_HIDE_BANNER: "true",
    NO_COLOR: "1",
    FORCE_COLOR: "0",
    ...(options.registry ? { WRANGLER_REGISTRY_PATH: options.registry } : {}),
  };
  const proc: BenchProcess = startProcess(options.name, process.execPath, args, {
    cwd: options.root ?? REPO_ROOT,
    env,
    logFile: options.logFile,
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/healthz`, options.startTimeoutMs ?? 90_000, proc);
  } catch (error) {
    await proc.stop();
    throw new Error(`${options.name}: ${(error as Error).message} (log: ${options.logFile})`);
  }
  return {
    name: options.name,
    url,
    port,
    inspectorPort,
    pids: () => groupPids(proc.pid),
    stop: () => proc.stop(),
  };
}
