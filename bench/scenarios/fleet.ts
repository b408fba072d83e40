/**
 * §6 Fleet: N real SDK clients polling one key every T over real HTTP, in two Node processes
 * (scenarios/fleet-worker.ts). In steady state: requests/s, share of 304s, bytes moved. Then one
 * publish: time from the origin's acknowledgement until 50 %, 99 % and 100 % of clients hold it.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Jwks } from "../../core/jws";
import { OriginAdmin } from "../lib/admin";
import type { BenchContext } from "../lib/context";
import { benchDocument } from "../lib/document";
import { sleep } from "../lib/processes";
import type { Cell, Section, Target } from "../lib/report";
import { progress } from "../lib/report";
import type { FullStack } from "../lib/stacks";
import { percentile, round } from "../lib/stats";
import type { Counters, FromWorker, ToWorker } from "./fleet-worker";

const WORKER = fileURLToPath(new URL("./fleet-worker.ts", import.meta.url));
const KEY = "bench/fleet/flags";

class FleetProcess {
  private readonly child: ChildProcess;
  private readonly waiting: Array<{ type: FromWorker["type"]; resolve: (m: FromWorker) => void }> = [];

  constructor() {
    this.child = fork(WORKER, [], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.child.on("message", (message: FromWorker) => {
      const i = this.waiting.findIndex((w) => w.type === message.type);
      if (i >= 0) this.waiting.splice(i, 1)[0]?.resolve(message);
    });
  }

  request<T extends FromWorker["type"]>(
    message: ToWorker,
    reply: T,
    timeoutMs: number,
  ): Promise<Extract<FromWorker, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`fleet worker: no ${reply} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiting.push({
        type: reply,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as Extract<FromWorker, { type: T }>);
        },
      });
      this.child.send(message);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.send({ type: "stop" } satisfies ToWorker);
    await Promise.race([exited, sleep(10_000)]);
    if (this.child.exitCode === null) this.child.kill("SIGKILL");
  }
}

interface FleetRun {
  clients: number;
  ready: number;
  rps: number;
  share304: number;
  bodyBytesPerS: number;
  headerBytesPerS: number;
  errors: number;
  meanRttMs: number;
  p50: number | null;
  p99: number | null;
  p100: number | null;
  converged: number;
  /** Failed polls in the steady-state window, by status or error. */
  failures: Record<string, number>;
}

function sum(list: Counters[], field: Exclude<keyof Counters, "failures">): number {
  return list.reduce((n, c) => n + c[field], 0);
}

function failuresOf(list: Counters[]): Record<string, number> {
  const all: Record<string, number> = {};
  for (const c of list) for (const [kind, n] of Object.entries(c.failures)) all[kind] = (all[kind] ?? 0) + n;
  return all;
}

async function runFleet(
  ctx: BenchContext,
  stack: FullStack,
  admin: OriginAdmin,
  clients: number,
  seed: number,
): Promise<FleetRun> {
  const intervalMs = ctx.sizes.fleetIntervalMs;
  const jwks = JSON.parse(ctx.secrets.PUBLIC_JWKS) as Jwks;
  const processes = clients > 250 ? 2 : 1;
  const fleet = Array.from({ length: processes }, () => new FleetProcess());
  try {
    const per = Math.ceil(clients / processes);
    const ready = await Promise.all(
      fleet.map((p, i) =>
        p.request(
          {
            type: "start",
            edge: stack.edge.url,
            key: KEY,
            jwks,
            count: Math.min(per, clients - i * per),
            intervalMs,
            id: `fleet${i}`,
          },
          "ready",
          150_000,
        ),
      ),
    );
    const readyCount = ready.reduce((n, r) => n + r.clients, 0);
    await sleep(intervalMs);
    await Promise.all(fleet.map((p) => p.request({ type: "mark" }, "marked", 10_000)));
    await sleep(ctx.sizes.fleetWindowS * 1000);
    const counters = (
      await Promise.all(fleet.map((p) => p.request({ type: "counters" }, "counters", 10_000)))
    ).map((m) => m.counters);
    const windowS = (Date.now() - Math.min(...counters.map((c) => c.sinceMs))) / 1000;
    const requests = sum(counters, "requests");

    const waitMs = intervalMs * 2 + 10_000;
    const published = await admin.mustPublish(KEY, benchDocument(4096, seed));
    const ackedAt = Date.now();
    const converged = await Promise.all(
      fleet.map((p) =>
        p.request({ type: "expect", version: published.version, waitMs }, "converged", waitMs + 10_000),
      ),
    );
    const times = converged.flatMap((m) => m.times);
    const delays = times.filter((t): t is number => t !== null).map((t) => Math.max(0, t - ackedAt));
    const all = delays.length === times.length && times.length === clients;
    const run: FleetRun = {
      clients,
      ready: readyCount,
      rps: round(requests / windowS, 1),
      share304: round(requests ? sum(counters, "notModified") / requests : 0, 4),
      bodyBytesPerS: round(sum(counters, "bodyBytes") / windowS, 0),
      headerBytesPerS: round(sum(counters, "headerBytes") / windowS, 0),
      errors: sum(counters, "errors") + sum(counters, "other"),
      meanRttMs: round(requests ? sum(counters, "latencyMs") / requests : Number.NaN, 1),
      // Percentiles over the whole fleet: a client that never converged counts as infinitely late.
      p50: delays.length >= clients * 0.5 ? percentile(padMissing(delays, clients), 50) : null,
      p99: delays.length >= clients * 0.99 ? percentile(padMissing(delays, clients), 99) : null,
      p100: all ? Math.max(...delays) : null,
      converged: delays.length,
      failures: failuresOf(counters),
    };
    progress(
      "fleet",
      `${clients} clients, T=${intervalMs} ms`,
      `${run.rps} req/s  rtt ${run.meanRttMs} ms  304s ${(run.share304 * 100).toFixed(1)}%  converged 50/99/100% in ${run.p50}/${run.p99}/${run.p100} ms`,
    );
    return run;
  } finally {
    await Promise.all(fleet.map((p) => p.stop()));
  }
}

function padMissing(delays: number[], total: number): number[] {
  return [...delays, ...Array.from({ length: total - delays.length }, () => Number.POSITIVE_INFINITY)];
}

export async function fleetSection(ctx: BenchContext, stack: FullStack): Promise<Section> {
  const admin = await OriginAdmin.create(stack.origin.url, ctx.secrets.ADMIN_JWT_SECRET);
  // max-age lengthens an SDK client's interval (client/schedule.ts), so it must not exceed T.
  const maxAge = Math.max(0, Math.floor(ctx.sizes.fleetIntervalMs / 1000));
  await admin.setNamespace("bench", { visibility: "public", maxAge });
  await admin.mustPublish(KEY, benchDocument(4096, 0));
  const served = await fetch(`${stack.edge.url}/v1/configs/${KEY}`);
  await served.arrayBuffer();
  const cacheControl = served.headers.get("Cache-Control");
  const runs: FleetRun[] = [];
  let seed = 1;
  for (const clients of ctx.sizes.fleetSizes) runs.push(await runFleet(ctx, stack, admin, clients, seed++));
  const T = ctx.sizes.fleetIntervalMs;
  const rows: Cell[][] = runs.map((r) => [
    r.clients,
    r.rps,
    r.share304 * 100,
    r.bodyBytesPerS / 1024,
    r.headerBytesPerS / 1024,
    r.errors,
    r.meanRttMs,
    r.p50,
    r.p99,
    r.p100,
  ]);
  const failureNotes = runs
    .filter((r) => Object.keys(r.failures).length > 0)
    .map(
      (r) =>
        `${r.clients} clients, failed polls: ${Object.entries(r.failures)
          .map(([kind, n]) => `${n} × ${kind}`)
          .join(", ")}.`,
    );
  const targets: Target[] = runs.map((r) => ({
    name: `${r.clients} clients: convergence p99 ≤ T + 1 s (${T + 1000} ms)`,
    met: r.p99 !== null && Number.isFinite(r.p99) && r.p99 <= T + 1000,
    detail: `p99 ${r.p99 ?? "never"} ms, 100% ${r.p100 ?? `not reached (${r.converged}/${r.clients})`} ms`,
  }));
  return {
    id: `fleet/${stack.runtime}`,
    title: `6. Fleet: N SDK clients polling every ${T / 1000} s (${stack.runtime}, edge + origin)`,
    method:
      "Real SDK clients (client/ createConfigClient, pinned JWKS, signature + digest checked on every 200) in " +
      `one or two Node processes, polling ${KEY} every T = ${T} ms (namespace max-age ${maxAge} s so the edge does not ` +
      `lengthen T), starts spread over one interval. Steady state over ${ctx.sizes.fleetWindowS} s: requests/s, share of ` +
      "304s, body and header bytes received. Then one publish; convergence = client adopted the new version − origin's 201.",
    columns: [
      "clients",
      "req/s",
      "304 %",
      "body KiB/s",
      "header KiB/s",
      "errors",
      "mean RTT ms",
      "50% ms",
      "99% ms",
      "100% ms",
    ],
    rows,
    targets,
    notes: [
      `The edge answered with Cache-Control "${cacheControl}". A client polls every max(T, max-age) plus up to 10 % ` +
        "jitter (client/schedule.ts), so the ideal rate is about N / 1.05 s and the ideal convergence p99 about " +
        "1.1 × T plus one round trip.",
      ...failureNotes,
    ],
    raw: { cacheControl, runs },
  };
}
