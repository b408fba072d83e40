/**
 * How fleetconf runs wrangler: always offline, always with `-c <config>` (a wrangler config in a
 * parent folder would otherwise win), never sending metrics. Shared by dev, test, deploy and e2e.
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { sleep, startProcess } from "./processes.mjs";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const WRANGLER_BIN = join(REPO_ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

export const WORKERS = {
  edge: { name: "fleetconf-edge", config: "wrangler.toml" },
  origin: { name: "fleetconf-origin", config: "origin/wrangler.toml" },
};

/** The environment every wrangler call gets: no metrics, no network lookups, no banner. */
export function wranglerEnv(extra = {}) {
  return {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_HIDE_BANNER: "true",
    ...extra,
  };
}

/** Arguments for `wrangler dev` of one worker on 127.0.0.1 (after the wrangler binary). */
export function wranglerDevArgs({ config, port, inspectorPort, persistTo, envFile, vars = {} }) {
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
    ...(envFile ? ["--env-file", envFile] : []),
    ...Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
  ];
}

/**
 * The last status wrangler printed for a service binding (`env.EDGE (fleetconf-edge) … [connected]`);
 * it reprints its bindings table whenever a dev-registry peer comes or goes. Undefined if the
 * worker has no such binding.
 */
export function lastBindingStatus(lines, binding, service) {
  const pattern = new RegExp(`env\\.${binding} \\(${service}\\).*\\[(connected|not connected)\\]`);
  for (let i = lines.length - 1; i >= 0; i--) {
    const match = pattern.exec(lines[i] ?? "");
    if (match) return match[1];
  }
  return undefined;
}

/** The origin's EDGE binding status (see lastBindingStatus). */
export function lastEdgeBindingStatus(lines) {
  return lastBindingStatus(lines, "EDGE", WORKERS.edge.name);
}

/**
 * Whether every cross-worker binding the two processes printed is connected: the origin's
 * EDGE (purges) and, when the edge has one, its ORIGIN (fleet reports).
 */
export function bindingsConnected(edgeLines, originLines) {
  const edgeToOrigin = lastBindingStatus(edgeLines, "ORIGIN", WORKERS.origin.name);
  return lastEdgeBindingStatus(originLines) === "connected" && edgeToOrigin !== "not connected";
}

/**
 * Polls `url` until it answers 2xx; throws if `proc` exits first, if time runs out, or if the
 * worker keeps answering 5xx for `failFastMs` (a broken secret or binding: waiting won't help).
 */
export async function waitForHealthy(
  url,
  { proc, timeoutMs = 90_000, intervalMs = 150, failFastMs = 8000 } = {},
) {
  const deadline = Date.now() + timeoutMs;
  let failingSince;
  while (Date.now() < deadline) {
    if (proc?.hasExited())
      throw new Error(`${proc.name} exited (${proc.exitState()}) before ${url} answered`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      const body = await response.text();
      if (response.ok) return;
      if (response.status >= 500) {
        failingSince ??= Date.now();
        if (Date.now() - failingSince > failFastMs) {
          throw new Error(`${url} keeps answering ${response.status}: ${body.slice(0, 300)}`, {
            cause: "unhealthy",
          });
        }
      }
    } catch (error) {
      if (error?.cause === "unhealthy") throw error;
      failingSince = undefined; // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`${url} did not answer 2xx within ${timeoutMs} ms`);
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
  onSpawn = () => {},
  healthUrl,
  timeoutMs = 90_000,
  attempts = 3,
}) {
  for (let attempt = 1; ; attempt++) {
    const proc = startProcess(name, process.execPath, [WRANGLER_BIN, ...args], { cwd, env, onLine });
    onSpawn(proc);
    try {
      await waitForHealthy(healthUrl, { proc, timeoutMs });
      return proc;
    } catch (error) {
      await proc.stop();
      const locked = proc.lines.some((line) => line.includes("SQLITE_BUSY"));
      if (!locked || attempt >= attempts) throw error;
      onLine(`-- ${name}: SQLite state was locked by the other worker starting; retrying (${attempt})`);
      await sleep(300 * attempt);
    }
  }
}
