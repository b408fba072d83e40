/**
 * Closed-loop HTTP load with a fixed number of connections, from wrk (C, cheap on a 2-core box)
 * when installed, else autocannon. Both report the same shape. Every run is bounded by a
 * duration or a request count and targets 127.0.0.1 only.
 */
import { spawn, spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import autocannon, { type RawRequest } from "autocannon";
import { round } from "./stats";

export type LoadTool = "wrk" | "autocannon";

export interface LoadOptions {
  url: string;
  connections: number;
  /** Seconds; bounded run. */
  durationS?: number;
  /** Stop after this many requests instead (autocannon only). */
  amount?: number;
  headers?: Record<string, string>;
  tool: LoadTool;
  /** A path per request, cycled (autocannon only): distinct keys for cold-path runs. */
  nextPath?: () => string;
  /** Send `Config-Client-Id: client-<i>`, i cycling over this many ids: a fleet of that many clients. */
  clientIds?: number;
}

export interface LoadResult {
  tool: LoadTool;
  rps: number;
  /** Latency percentiles in milliseconds. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  requests: number;
  /** Connection errors, timeouts and non-2xx/3xx answers. */
  errors: number;
  bytes: number;
  durationS: number;
  /** Per-status counts (autocannon only; wrk reports only non-2xx/3xx). */
  statuses?: Record<string, number>;
  /** 1-minute load average when the run ended: how busy the shared machine was. */
  loadAverage?: number;
  /** CPU time the server's processes spent per request during the run, in µs (when known). */
  cpuUsPerRequest?: number;
}

const WRK_SCRIPT = fileURLToPath(new URL("./wrk-report.lua", import.meta.url));
const WRK_CLIENT_IDS_SCRIPT = fileURLToPath(new URL("./wrk-client-ids.lua", import.meta.url));

export function wrkAvailable(): boolean {
  return spawnSync("wrk", ["--version"], { encoding: "utf8" }).error === undefined;
}

export function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (host !== "127.0.0.1" && host !== "localhost" && host !== "[::1]") {
    throw new Error(`the bench only loads 127.0.0.1, not ${host}`);
  }
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  assertLoopback(options.url);
  if (options.durationS === undefined && options.amount === undefined) {
    throw new Error("a load run needs a duration or an amount");
  }
  const result =
    options.tool === "wrk" && options.amount === undefined && options.nextPath === undefined
      ? await runWrk(options)
      : await runAutocannon(options);
  return { ...result, loadAverage: round(loadavg()[0] ?? 0, 2) };
}

async function runAutocannon(options: LoadOptions): Promise<LoadResult> {
  const { nextPath, clientIds } = options;
  let sent = 0;
  const setupRequest = (request: RawRequest): RawRequest => {
    sent++;
    const next = nextPath ? { ...request, path: nextPath() } : { ...request };
    if (clientIds) next.headers = { ...request.headers, "Config-Client-Id": `client-${sent % clientIds}` };
    return next;
  };
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    ...(options.amount === undefined ? { duration: options.durationS } : { amount: options.amount }),
    timeout: 10,
    headers: options.headers ?? {},
    ...(nextPath || clientIds ? { requests: [{ setupRequest }] } : {}),
  });
  const statuses: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats)) statuses[code] = Number(stat.count);
  const ok = Object.entries(statuses).reduce((n, [code, count]) => (/^[23]/.test(code) ? n + count : n), 0);
  const total = Object.values(statuses).reduce((a, b) => a + b, 0);
  return {
    tool: "autocannon",
    rps: round(total / result.duration, 1),
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    requests: total,
    errors: result.errors + (total - ok),
    bytes: result.throughput.total,
    durationS: round(result.duration, 3),
    statuses,
  };
}

function runWrk(options: LoadOptions): Promise<LoadResult> {
  const args = ["-t1", `-c${options.connections}`, `-d${options.durationS}s`, "--timeout", "10s"];
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push("-H", `${name}: ${value}`);
  if (options.clientIds) args.push("-s", WRK_CLIENT_IDS_SCRIPT, options.url, "--", String(options.clientIds));
  else args.push("-s", WRK_SCRIPT, options.url);
  return new Promise((resolve, reject) => {
    const child = spawn("wrk", args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("WRK_JSON "));
      if (code !== 0 || !line) {
        return reject(
          new Error(`wrk ${args.join(" ")} failed (${code}): ${JSON.stringify(out.slice(-500))}`),
        );
      }
      const w = JSON.parse(line.slice("WRK_JSON ".length)) as Record<string, number>;
      const n = (name: string) => w[name] ?? 0;
      const durationS = n("durationUs") / 1e6;
      resolve({
        tool: "wrk",
        rps: round(n("requests") / durationS, 1),
        p50: round(n("p50") / 1000, 3),
        p90: round(n("p90") / 1000, 3),
        p99: round(n("p99") / 1000, 3),
        max: round(n("max") / 1000, 3),
        requests: n("requests"),
        errors: n("connect") + n("read") + n("write") + n("status") + n("timeout"),
        bytes: n("bytes"),
        durationS: round(durationS, 3),
      });
    });
  });
}
