/**
 * §6 Fleet: N real SDK clients polling one key every T over real HTTP, in two Node processes
 * (scenarios/fleet-worker.ts). In steady state: requests/s, share of 304s, bytes moved, workerd CPU
 * per client. Then one publish: time from the origin's acknowledgement until 50 %, 99 % and 100 %
 * of clients hold it. Then the same fleet long-polling (DESIGN §8, issue 13): publishes while it
 * waits (edge latency and fleet adoption each), and the hot path with the waiters parked vs none.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Jwks } from "../../core/jws";
import { OriginAdmin } from "../lib/admin";
import { describeRun } from "../lib/compare";
import { type BenchContext, probe } from "../lib/context";
import { cpuSecondsOf } from "../lib/cpu";
import { benchDocument } from "../lib/document";
import { type LoadResult, runLoad } from "../lib/load";
import { sleep } from "../lib/processes";
import type { Cell, Section, Target } from "../lib/report";
import { progress } from "../lib/report";
import type { FullStack } from "../lib/stacks";
import { median, percentile, ratio, round } from "../lib/stats";
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

type FleetMode = "poll" | "long-poll";

interface FleetRun {
  clients: number;
  mode: FleetMode;
  ready: number;
  rps: number;
  share304: number;
  bodyBytesPerS: number;
  headerBytesPerS: number;
  errors: number;
  meanRttMs: number;
  /** Convergence of the first publish (the steady-state one). */
  p50: number | null;
  p99: number | null;
  p100: number | null;
  converged: number;
  /** Failed polls in the steady-state window, by status or error. */
  failures: Record<string, number>;
  windowS: number;
  /** Per client per hour, from the steady-state window: requests, and workerd CPU ms (edge + origin). */
  requestsPerClientHour: number;
  cpuMsPerClientHour: number | null;
  preferSent: number;
  honoured: number;
  /** Long-poll mode: every publish measured while the fleet waited. */
  publishes: PublishSample[];
}

interface PublishSample {
  /** ms from the 201 until a plain edge read returns the new version. */
  edgeMs: number | null;
  edgeReads: number;
  /** The last answer with the old version: status, Config-Version, Cache-Status. */
  edgeLastOld: string | null;
  /** ms from the 201 until 99 % of the fleet holds it (null: not within the wait). */
  p99: number | null;
  p100: number | null;
}

function sum(list: Counters[], field: Exclude<keyof Counters, "failures">): number {
  return list.reduce((n, c) => n + c[field], 0);
}

function failuresOf(list: Counters[]): Record<string, number> {
  const all: Record<string, number> = {};
  for (const c of list) for (const [kind, n] of Object.entries(c.failures)) all[kind] = (all[kind] ?? 0) + n;
  return all;
}

/**
 * Reads the edge back to back until it serves `version`: ms after `ackedAt` (performance.now()),
 * the reads it took, and the Cache-Status of the last read that still had the old version (where
 * the old one came from, when the edge was slow to show the new one).
 */
async function edgeSees(
  url: string,
  version: number,
  ackedAt: number,
  giveUpMs: number,
): Promise<{ ms: number | null; reads: number; lastOld: string | null }> {
  let reads = 0;
  let lastOld: string | null = null;
  while (performance.now() - ackedAt < giveUpMs) {
    reads++;
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) }).catch(() => null);
    if (res) {
      await res.arrayBuffer();
      if (res.status === 200 && Number(res.headers.get("Config-Version") ?? 0) >= version)
        return { ms: round(performance.now() - ackedAt, 1), reads, lastOld };
      lastOld = `${res.status} ${res.headers.get("Config-Version") ?? "-"} ${res.headers.get("Cache-Status") ?? ""}`;
    } else await sleep(20);
  }
  return { ms: null, reads, lastOld };
}

interface FleetOptions {
  mode: FleetMode;
  /** Runs while the fleet is connected and idle, after the steady-state window (the parked hot runs). */
  whileParked?: () => Promise<void>;
}

async function runFleet(
  ctx: BenchContext,
  stack: FullStack,
  admin: OriginAdmin,
  clients: number,
  seed: number,
  options: FleetOptions,
): Promise<FleetRun> {
  const intervalMs = ctx.sizes.fleetIntervalMs;
  const longPoll = options.mode === "long-poll";
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
            longPoll,
            waitSeconds: ctx.sizes.longPollWaitS,
          },
          "ready",
          150_000,
        ),
      ),
    );
    const readyCount = ready.reduce((n, r) => n + r.clients, 0);
    await sleep(intervalMs);
    // A long-poll client sends about one request per wait: the window must hold at least one.
    const windowS = longPoll ? ctx.sizes.longPollWaitS + 2 : ctx.sizes.fleetWindowS;
    const cpuBefore = stack.pids ? cpuSecondsOf(stack.pids()) : null;
    await Promise.all(fleet.map((p) => p.request({ type: "mark" }, "marked", 10_000)));
    await sleep(windowS * 1000);
    const counters = (
      await Promise.all(fleet.map((p) => p.request({ type: "counters" }, "counters", 10_000)))
    ).map((m) => m.counters);
    const cpuSeconds = cpuBefore !== null && stack.pids ? cpuSecondsOf(stack.pids()) - cpuBefore : null;
    const measuredS = (Date.now() - Math.min(...counters.map((c) => c.sinceMs))) / 1000;
    const requests = sum(counters, "requests");
    if (options.whileParked) await options.whileParked();

    const waitMs = intervalMs * 2 + 10_000;
    const url = `${stack.edge.url}/v1/configs/${KEY}`;
    const samples: PublishSample[] = [];
    let first: { delays: number[]; times: Array<number | null> } | null = null;
    const publishes = longPoll ? ctx.sizes.longPollPublishes : 1;
    for (let i = 0; i < publishes; i++) {
      const published = await admin.mustPublish(KEY, benchDocument(4096, seed * 1000 + i));
      const ackedAt = Date.now();
      const [edge, converged] = await Promise.all([
        edgeSees(url, published.version, published.ackedAt, 10_000),
        Promise.all(
          fleet.map((p) =>
            p.request({ type: "expect", version: published.version, waitMs }, "converged", waitMs + 10_000),
          ),
        ),
      ]);
      const times = converged.flatMap((m) => m.times);
      const delays = times.filter((t): t is number => t !== null).map((t) => Math.max(0, t - ackedAt));
      first ??= { delays, times };
      samples.push({
        edgeMs: edge.ms,
        edgeReads: edge.reads,
        edgeLastOld: edge.lastOld,
        p99: delays.length >= clients * 0.99 ? percentile(padMissing(delays, clients), 99) : null,
        p100: delays.length === clients ? Math.max(...delays) : null,
      });
      await sleep(500);
    }
    const { delays, times } = first ?? { delays: [], times: [] };
    const all = delays.length === times.length && times.length === clients;
    const hours = measuredS / 3600;
    const run: FleetRun = {
      clients,
      mode: options.mode,
      ready: readyCount,
      rps: round(requests / measuredS, 1),
      share304: round(requests ? sum(counters, "notModified") / requests : 0, 4),
      bodyBytesPerS: round(sum(counters, "bodyBytes") / measuredS, 0),
      headerBytesPerS: round(sum(counters, "headerBytes") / measuredS, 0),
      errors: sum(counters, "errors") + sum(counters, "other"),
      meanRttMs: round(requests ? sum(counters, "latencyMs") / requests : Number.NaN, 1),
      // Percentiles over the whole fleet: a client that never converged counts as infinitely late.
      p50: delays.length >= clients * 0.5 ? percentile(padMissing(delays, clients), 50) : null,
      p99: delays.length >= clients * 0.99 ? percentile(padMissing(delays, clients), 99) : null,
      p100: all ? Math.max(...delays) : null,
      converged: delays.length,
      failures: failuresOf(counters),
      windowS: round(measuredS, 1),
      requestsPerClientHour: round(requests / clients / hours, 1),
      cpuMsPerClientHour: cpuSeconds === null ? null : round((cpuSeconds * 1000) / clients / hours, 2),
      preferSent: sum(counters, "preferSent"),
      honoured: sum(counters, "honoured"),
      publishes: samples,
    };
    progress(
      "fleet",
      `${clients} clients, ${options.mode}`,
      `${run.rps} req/s  rtt ${run.meanRttMs} ms  304s ${(run.share304 * 100).toFixed(1)}%  converged 50/99/100% in ${run.p50}/${run.p99}/${run.p100} ms` +
        (longPoll ? `  held ${run.honoured}/${run.preferSent}` : ""),
    );
    return run;
  } finally {
    await Promise.all(fleet.map((p) => p.stop()));
  }
}

function padMissing(delays: number[], total: number): number[] {
  return [...delays, ...Array.from({ length: total - delays.length }, () => Number.POSITIVE_INFINITY)];
}

/**
 * Workers Standard prices (developers.cloudflare.com/workers/platform/pricing, read 2026-12-01):
 * $5/month subscription, 10 M requests included then $0.30 per million, 30 M CPU ms included then
 * $0.02 per million CPU ms; no charge for duration (a held long-poll's wall time is free).
 */
export const WORKERS_PRICES = {
  subscription: 5,
  includedRequests: 10e6,
  perMillionRequests: 0.3,
  includedCpuMs: 30e6,
  perMillionCpuMs: 0.02,
} as const;

const HOURS_PER_MONTH = 730;

/** Monthly Workers bill of `clients` clients from per-client-hour requests and CPU ms. */
export function monthlyCost(requestsPerClientHour: number, cpuMsPerClientHour: number, clients = 1e6) {
  const requests = requestsPerClientHour * HOURS_PER_MONTH * clients;
  const cpuMs = cpuMsPerClientHour * HOURS_PER_MONTH * clients;
  const requestsUsd =
    (Math.max(0, requests - WORKERS_PRICES.includedRequests) / 1e6) * WORKERS_PRICES.perMillionRequests;
  const cpuUsd = (Math.max(0, cpuMs - WORKERS_PRICES.includedCpuMs) / 1e6) * WORKERS_PRICES.perMillionCpuMs;
  return {
    requests,
    cpuMs,
    requestsUsd: round(requestsUsd, 0),
    cpuUsd: round(cpuUsd, 0),
    totalUsd: round(WORKERS_PRICES.subscription + requestsUsd + cpuUsd, 0),
  };
}

interface HotWithWaiters {
  condition: "200" | "304";
  without: LoadResult[];
  parked: LoadResult[];
}

/** One hot run on the fleet's stack (a key of its own, from isolate memory), CPU of its workerd. */
async function hotRun(ctx: BenchContext, stack: FullStack, url: string, headers: Record<string, string>) {
  const seen = await probe(url, headers);
  if (!seen.cacheStatus?.includes("detail=memory"))
    throw new Error(
      `hot key on the fleet stack answered ${seen.status} ${seen.cacheStatus ?? "(no Cache-Status)"}, not from memory`,
    );
  const pids = stack.pids?.() ?? [];
  const before = cpuSecondsOf(pids);
  const result = await runLoad({
    url,
    headers,
    connections: ctx.sizes.connections,
    durationS: ctx.sizes.durationS,
    tool: ctx.tool,
  });
  const cpuUs = ((cpuSecondsOf(pids) - before) * 1e6) / Math.max(1, result.requests);
  return pids.length ? { ...result, cpuUsPerRequest: round(cpuUs, 1) } : result;
}

export async function fleetSection(ctx: BenchContext, stack: FullStack): Promise<Section> {
  const admin = await OriginAdmin.create(stack.origin.url, ctx.secrets.ADMIN_JWT_SECRET);
  // max-age lengthens an SDK client's interval (client/schedule.ts), so it must not exceed T.
  const maxAge = Math.max(0, Math.floor(ctx.sizes.fleetIntervalMs / 1000));
  await admin.setNamespace("bench", { visibility: "public", maxAge });
  await admin.mustPublish(KEY, benchDocument(4096, 0));
  await admin.setNamespace("benchfleethot", { visibility: "public", maxAge: 60 });
  await admin.mustPublish(HOT_FLEET_KEY, benchDocument(4096, 0));
  const served = await fetch(`${stack.edge.url}/v1/configs/${KEY}`);
  await served.arrayBuffer();
  const cacheControl = served.headers.get("Cache-Control");
  const runs: FleetRun[] = [];
  let seed = 1;
  for (const clients of ctx.sizes.fleetSizes)
    runs.push(await runFleet(ctx, stack, admin, clients, seed++, { mode: "poll" }));

  // Long-poll: the hot path without waiters, with the fleet parked (twice), without again (ABBA).
  const hotUrl = `${stack.edge.url}/v1/configs/${HOT_FLEET_KEY}`;
  const etag = (await probe(hotUrl)).etag ?? "";
  const conditions: Array<{ condition: "200" | "304"; headers: Record<string, string> }> = [
    { condition: "200" as const, headers: {} },
    { condition: "304" as const, headers: { "If-None-Match": etag } },
  ];
  const hot: HotWithWaiters[] = conditions.map((c) => ({ condition: c.condition, without: [], parked: [] }));
  const hotRound = async (side: "without" | "parked") => {
    for (const [i, c] of conditions.entries()) {
      const result = await hotRun(ctx, stack, hotUrl, c.headers);
      hot[i]?.[side].push(result);
      progress(
        "fleet",
        `hot ${c.condition}, ${side === "parked" ? "waiters parked" : "no waiters"}`,
        describeRun(result),
      );
    }
  };
  let longPollRun: FleetRun | null = null;
  let hotError: string | null = null;
  try {
    await hotRound("without");
    longPollRun = await runFleet(ctx, stack, admin, ctx.sizes.longPollClients, seed++, {
      mode: "long-poll",
      whileParked: async () => {
        await hotRound("parked");
        await hotRound("parked");
      },
    });
    await hotRound("without");
  } catch (error) {
    hotError = error instanceof Error ? (error.message.split("\n")[0] ?? "failed") : String(error);
    progress("fleet", "long-poll part failed", hotError);
  }
  if (longPollRun) runs.push(longPollRun);
  return fleetReport(ctx, runs, cacheControl, maxAge, hot, hotError);
}

/** In a namespace of its own with max-age 60 s, so the hot runs stay on the memory tier. */
const HOT_FLEET_KEY = "benchfleethot/svc/flags";

function fleetReport(
  ctx: BenchContext,
  runs: FleetRun[],
  cacheControl: string | null,
  maxAge: number,
  hot: HotWithWaiters[],
  hotError: string | null,
): Section {
  const T = ctx.sizes.fleetIntervalMs;
  const rows: Cell[][] = runs.map((r) => [
    `${r.clients} ${r.mode === "poll" ? `polling T=${T / 1000} s` : `long-poll wait=${ctx.sizes.longPollWaitS} s`}`,
    r.rps,
    r.share304 * 100,
    r.bodyBytesPerS / 1024,
    r.headerBytesPerS / 1024,
    r.errors,
    r.meanRttMs,
    r.p50,
    r.p99,
    r.p100,
    r.requestsPerClientHour,
    r.cpuMsPerClientHour,
  ]);
  const failureNotes = runs
    .filter((r) => Object.keys(r.failures).length > 0)
    .map(
      (r) =>
        `${r.clients} clients (${r.mode}), failed polls: ${Object.entries(r.failures)
          .map(([kind, n]) => `${n} × ${kind}`)
          .join(", ")}.`,
    );
  const targets: Target[] = runs
    .filter((r) => r.mode === "poll")
    .map((r) => ({
      name: `${r.clients} clients polling: convergence p99 ≤ T + 1 s (${T + 1000} ms)`,
      met: r.p99 !== null && Number.isFinite(r.p99) && r.p99 <= T + 1000,
      detail: `p99 ${r.p99 ?? "never"} ms, 100% ${r.p100 ?? `not reached (${r.converged}/${r.clients})`} ms`,
    }));
  const notes: string[] = [
    `The edge answered with Cache-Control "${cacheControl}". A polling client polls every max(T, max-age) plus up to 10 % ` +
      "jitter (client/schedule.ts), so the ideal rate is about N / 1.05 s and the ideal convergence p99 about " +
      "1.1 × T plus one round trip.",
    ...failureNotes,
  ];
  const lp = runs.find((r) => r.mode === "long-poll");
  if (lp) {
    const p99s = lp.publishes.map((p) => p.p99);
    const edge = lp.publishes.map((p) => p.edgeMs);
    const worst = (list: Array<number | null>) =>
      list.length && list.every((v) => v !== null) ? Math.max(...(list as number[])) : null;
    const edgeFinite = edge.filter((v): v is number => v !== null);
    const edgeP99 = edgeFinite.length === edge.length ? percentile(edgeFinite, 99) : null;
    const honouredShare = lp.preferSent ? lp.honoured / lp.preferSent : 0;
    targets.push({
      name: `${lp.clients} long-polling clients: publish → 99 % hold it, p99 over ${lp.publishes.length} publishes ≤ 250 ms`,
      // Not measured (null) when no long-poll was held: the row is then a polling fleet.
      met:
        lp.honoured === 0
          ? null
          : percentileOrNull(p99s) !== null
            ? (percentileOrNull(p99s) as number) <= 250
            : false,
      detail: `per publish 99 % by ${p99s.map((v) => v ?? "never").join(" / ")} ms; held by the edge: ${lp.honoured} of ${lp.preferSent} Prefer requests (${(honouredShare * 100).toFixed(0)} %)`,
    });
    targets.push({
      name: `${lp.clients} long-polling clients: publish → edge serves it, p99 ≤ 100 ms`,
      met: edgeP99 !== null ? edgeP99 <= 100 : false,
      detail: `p99 ${edgeP99 ?? "never"} ms (worst ${worst(edge) ?? "never"} ms) over ${edge.length} publishes${slowest(lp.publishes)}`,
    });
    for (const h of hot) {
      const without = median(h.without.map((r) => r.rps));
      const parked = median(h.parked.map((r) => r.rps));
      const r = ratio(parked, without);
      targets.push({
        name: `hot ${h.condition} with ${lp.clients} waiters parked ≥ 0.95× without (ABBA)`,
        met: lp.honoured > 0 && h.without.length >= 2 && h.parked.length >= 2 ? r >= 0.95 : null,
        detail: `${lp.honoured === 0 ? "not measured: no waiter was parked (the fleet polled); " : ""}${r}× (${Math.round(parked)} vs ${Math.round(without)} req/s; CPU ${round(median(h.parked.map((x) => x.cpuUsPerRequest ?? 0)), 1)} vs ${round(median(h.without.map((x) => x.cpuUsPerRequest ?? 0)), 1)} µs/req)`,
      });
    }
    const poll = [...runs].reverse().find((r) => r.mode === "poll");
    for (const r of [poll, lp]) {
      if (!r || r.cpuMsPerClientHour === null) continue;
      const cost = monthlyCost(r.requestsPerClientHour, r.cpuMsPerClientHour);
      notes.push(
        `${r.mode === "poll" ? `Polling (T = ${T / 1000} s)` : `Long-poll (wait ${ctx.sizes.longPollWaitS} s)`}: ` +
          `${r.requestsPerClientHour} requests and ${r.cpuMsPerClientHour} ms of workerd CPU (edge + origin, local) per client per hour → ` +
          `1M clients ≈ ${(cost.requests / 1e9).toFixed(2)} G requests and ${(cost.cpuMs / 1e9).toFixed(2)} G CPU ms a month ≈ ` +
          `$${cost.totalUsd.toLocaleString("en")}/month on Workers Standard ($${cost.requestsUsd.toLocaleString("en")} requests + ` +
          `$${cost.cpuUsd.toLocaleString("en")} CPU + $5), prices of developers.cloudflare.com/workers/platform/pricing.`,
      );
    }
    if (poll && poll.cpuMsPerClientHour !== null && poll.requestsPerClientHour > 0) {
      // Computed, not measured: the SDK's default interval (5 s, client/schedule.ts) at the CPU per
      // request measured above, for a like-for-like polling figure beside the 1 s fleet.
      const perHour = 3600 / (5 * 1.05);
      const cpuPerRequest = poll.cpuMsPerClientHour / poll.requestsPerClientHour;
      const cost = monthlyCost(perHour, perHour * cpuPerRequest);
      notes.push(
        `Computed for polling at the SDK's default T = 5 s (+5 % mean jitter): ${round(perHour, 0)} requests per client per hour ` +
          `at the measured ${round(cpuPerRequest, 3)} ms CPU per request → 1M clients ≈ $${cost.totalUsd.toLocaleString("en")}/month.`,
      );
    }
    if (lp.honoured === 0)
      notes.push(
        "No long-poll was held (no `Preference-Applied`): the edge or the SDK of this build has no long-poll yet, so the long-poll row is polling.",
      );
  }
  if (hotError) notes.push(`Long-poll part failed: ${hotError}`);
  return {
    id: `fleet/miniflare`,
    title: `6. Fleet: N SDK clients polling every ${T / 1000} s, and long-polling (miniflare, edge + origin)`,
    method:
      "Real SDK clients (client/ createConfigClient, pinned JWKS, signature + digest checked on every 200) in " +
      `one or two Node processes, polling ${KEY} every T = ${T} ms (longPoll: false; namespace max-age ${maxAge} s so the ` +
      `edge does not lengthen T), starts spread over one interval. Steady state over ${ctx.sizes.fleetWindowS} s: requests/s, ` +
      "share of 304s, body and header bytes received, workerd CPU (every workerd process of the run: edge and origin) per " +
      "client per hour. Then one publish; convergence = client adopted the new version − origin's 201. Long-poll row: " +
      `${ctx.sizes.longPollClients} SDK clients with longPoll: true, waitSeconds ${ctx.sizes.longPollWaitS}; steady window ` +
      `${ctx.sizes.longPollWaitS + 2} s (one wait); then ${ctx.sizes.longPollPublishes} publishes, each: edge read back to ` +
      "back until it serves the new version, and the fleet's 99 %/100 % adoption. Hot path with waiters: " +
      `${ctx.tool}, ${ctx.sizes.connections} connections, ${ctx.sizes.durationS} s per run on ${HOT_FLEET_KEY} (memory tier ` +
      "asserted), 200 and 304, in the order without waiters, parked, parked, without (ABBA).",
    columns: [
      "clients / mode",
      "req/s",
      "304 %",
      "body KiB/s",
      "header KiB/s",
      "errors",
      "mean RTT ms",
      "50% ms",
      "99% ms",
      "100% ms",
      "req/client/h",
      "CPU ms/client/h",
    ],
    rows,
    targets,
    notes,
    raw: { cacheControl, runs, hot },
  };
}

/** Where the slowest publish's old answers came from, for the edge target's detail. */
function slowest(samples: readonly PublishSample[]): string {
  const worst = [...samples].sort(
    (a, b) => (b.edgeMs ?? Number.POSITIVE_INFINITY) - (a.edgeMs ?? Number.POSITIVE_INFINITY),
  )[0];
  if (!worst || worst.edgeReads <= 1) return "";
  return `; slowest took ${worst.edgeReads} reads, the last old one "${worst.edgeLastOld ?? "?"}"`;
}

function percentileOrNull(values: Array<number | null>): number | null {
  if (values.length === 0 || values.some((v) => v === null)) return null;
  return percentile(values as number[], 99);
}
