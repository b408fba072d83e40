/**
 * How fleetconf runs wrangler: always offline, always with `-c <config>` (a wrangler config in a
 * parent folder would otherwise win), never sending metrics. The one wrangler launcher of dev,
 * test, deploy, the e2e harness and the bench.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type ManagedProcess, REPO_ROOT, sleep, startProcess, waitForHttp } from "./processes";

export { REPO_ROOT };
export const WRANGLER_BIN = join(REPO_ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

export const WORKERS = {
  edge: { name: "fleetconf-edge", config: "wrangler.toml" },
  origin: { name: "fleetconf-origin", config: "origin/wrangler.toml" },
} as const;

export type Part = keyof typeof WORKERS;

/** The environment every wrangler call gets: no metrics, no network lookups, no banner. */
export function wranglerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_HIDE_BANNER: "true",
    ...extra,
  };
}

export interface DevArgsOptions {
  config: string;
  port: number;
  inspectorPort: number;
  persistTo: string;
  envFile?: string;
  vars?: Record<string, string>;
  /** wrangler's own log level; "warn" drops its per-request access lines (not the worker's logs). */
  logLevel?: "info" | "log" | "warn" | "error";
}

/** Arguments for `wrangler dev` of one worker on 127.0.0.1 (after the wrangler binary). */
export function wranglerDevArgs({
  config,
  port,
  inspectorPort,
  persistTo,
  envFile,
  vars = {},
  logLevel,
}: DevArgsOptions): string[] {
  return [
    "dev",
    "-c",
    config,
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(inspectorPort),
    "--persist-to",
    persistTo,
    "--show-interactive-dev-session=false",
    ...(logLevel ? ["--log-level", logLevel] : []),
    ...(envFile ? ["--env-file", envFile] : []),
    ...Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
  ];
}

type BindingStatus = "connected" | "not connected";

/**
 * The last status wrangler printed for a service binding (`env.EDGE (fleetconf-edge) … [connected]`);
 * it reprints its bindings table whenever a dev-registry peer comes or goes. Undefined if the
 * worker has no such binding.
 */
export function lastBindingStatus(
  lines: readonly string[],
  binding: string,
  service: string,
): BindingStatus | undefined {
  const pattern = new RegExp(`env\\.${binding} \\(${service}\\).*\\[(connected|not connected)\\]`);
  for (let i = lines.length - 1; i >= 0; i--) {
    const status = pattern.exec(lines[i] ?? "")?.[1];
    if (status === "connected" || status === "not connected") return status;
  }
  return undefined;
}

/** The origin's EDGE binding status (see lastBindingStatus). */
export function lastEdgeBindingStatus(lines: readonly string[]): BindingStatus | undefined {
  return lastBindingStatus(lines, "EDGE", WORKERS.edge.name);
}

/**
 * Whether every cross-worker binding the two processes printed is connected: the origin's
 * EDGE (purges) and, when the edge has one, its ORIGIN (fleet reports).
 */
export function bindingsConnected(edgeLines: readonly string[], originLines: readonly string[]): boolean {
  const edgeToOrigin = lastBindingStatus(edgeLines, "ORIGIN", WORKERS.origin.name);
  return lastEdgeBindingStatus(originLines) === "connected" && edgeToOrigin !== "not connected";
}

export interface WranglerDevOptions {
  name: string;
  /** From `wranglerDevArgs`. */
  args: readonly string[];
  /** The directory the config path is relative to (the repo, or a frozen copy of it). */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  onLine?: (line: string) => void;
  /** Output straight to this file instead of `onLine`/`lines` (see `startProcess`). */
  logFile?: string;
  onSpawn?: (proc: ManagedProcess) => void;
  healthUrl: string;
  timeoutMs?: number;
  attempts?: number;
}

/**
 * Starts `wrangler dev` (args from `wranglerDevArgs`) and resolves once `healthUrl` answers.
 * Two workers starting at once on one fresh `--persist-to` can collide while workerd creates
 * its shared SQLite files ("database is locked: SQLITE_BUSY", fatal at startup); such a start is
 * retried. `onSpawn` sees every process started, so a caller can stop it if interrupted.
 */
export async function startWranglerDev({
  name,
  args,
  cwd = REPO_ROOT,
  env = wranglerEnv(),
  onLine = () => {},
  logFile,
  onSpawn = () => {},
  healthUrl,
  timeoutMs = 90_000,
  attempts = 3,
}: WranglerDevOptions): Promise<ManagedProcess> {
  for (let attempt = 1; ; attempt++) {
    const proc = startProcess(name, process.execPath, [WRANGLER_BIN, ...args], {
      cwd,
      env,
      onLine,
      ...(logFile ? { logFile } : {}),
    });
    onSpawn(proc);
    try {
      await waitForHttp(healthUrl, { proc, timeoutMs });
      return proc;
    } catch (error) {
      await proc.stop();
      const output = logFile ? readFileSync(logFile, "utf8").split("\n") : proc.lines;
      const locked = output.some((line) => line.includes("SQLITE_BUSY"));
      if (!locked || attempt >= attempts) throw error;
      const note = `-- ${name}: SQLite state was locked by the other worker starting; retrying (${attempt})`;
      onLine(note);
      await sleep(300 * attempt);
    }
  }
}
