/**
 * A/B comparisons: every variant runs once per round, the order reversed every other round
 * (A B C, C B A, A B C …: ABBA counterbalancing), so neither slow drift on a shared machine nor
 * "runs right after X" (a warm CPU cache, a GC owed by the previous run) favours one variant; the
 * report uses medians over rounds. With an even number of rounds every variant holds each position
 * equally often; with one round (quick mode) nothing is counterbalanced.
 */
import { cpuSecondsOf } from "./cpu";
import { type LoadResult, type LoadTool, runLoad } from "./load";
import { sleep } from "./processes";
import { fmt, progress } from "./report";
import { median, round as roundTo } from "./stats";

export interface Variant {
  label: string;
  url: string;
  headers?: Record<string, string>;
  /** The server's processes: their CPU time per request is recorded beside the throughput. */
  cpuPids?: () => number[];
  /** Cycle `Config-Client-Id` over this many ids (lib/load.ts). */
  clientIds?: number;
}

export interface VariantSummary {
  label: string;
  rps: number;
  /** Median CPU µs per request, when the variant names its processes. */
  cpuUs: number | null;
  p50: number;
  p99: number;
  errors: number;
  runs: LoadResult[];
}

export interface CompareOptions {
  section: string;
  rounds: number;
  durationS: number;
  connections: number;
  tool: LoadTool;
  /** Seconds of unrecorded load per variant before the first round (JIT, caches, sockets). */
  warmupS?: number;
  /** Pause after each run so the server drains what the last run left in flight (large bodies). */
  settleMs?: number;
}

export function describeRun(r: LoadResult): string {
  const cpu = r.cpuUsPerRequest === undefined ? "" : `  cpu ${fmt(r.cpuUsPerRequest).padStart(5)} µs/req`;
  return `${fmt(r.rps).padStart(7)} req/s  p50 ${fmt(r.p50, 2).padStart(6)} ms  p99 ${fmt(r.p99, 2).padStart(7)} ms${cpu}${r.errors ? `  errors ${r.errors}` : ""}`;
}

export async function compareVariants(
  variants: readonly Variant[],
  options: CompareOptions,
): Promise<Map<string, VariantSummary>> {
  const base = { connections: options.connections, tool: options.tool };
  const warmupS = options.warmupS ?? 1;
  for (const variant of warmupS > 0 ? variants : []) {
    await runLoad({ ...base, url: variant.url, headers: variant.headers ?? {}, durationS: warmupS });
  }
  const runs = new Map<string, LoadResult[]>(variants.map((v) => [v.label, []]));
  for (let round = 1; round <= options.rounds; round++) {
    const order = round % 2 === 1 ? variants : [...variants].reverse();
    for (const variant of order) {
      const pids = variant.cpuPids?.() ?? [];
      const cpuBefore = cpuSecondsOf(pids);
      const loaded = await runLoad({
        ...base,
        url: variant.url,
        headers: variant.headers ?? {},
        durationS: options.durationS,
        ...(variant.clientIds ? { clientIds: variant.clientIds } : {}),
      });
      const cpuUs = ((cpuSecondsOf(pids) - cpuBefore) * 1e6) / Math.max(1, loaded.requests);
      const result = pids.length ? { ...loaded, cpuUsPerRequest: roundTo(cpuUs, 1) } : loaded;
      // A throughput figure of failing requests means nothing: refuse the comparison instead.
      if (result.errors > result.requests * 0.01) {
        throw new Error(
          `${variant.label}: ${result.errors} of ${result.requests} requests failed or were not 2xx/3xx`,
        );
      }
      runs.get(variant.label)?.push(result);
      progress(options.section, `${variant.label} r${round}`, describeRun(result));
      if (options.settleMs) await sleep(options.settleMs);
    }
  }
  const summaries = new Map<string, VariantSummary>();
  for (const [label, results] of runs) {
    summaries.set(label, {
      label,
      rps: median(results.map((r) => r.rps)),
      cpuUs: results.every((r) => r.cpuUsPerRequest !== undefined)
        ? median(results.map((r) => r.cpuUsPerRequest ?? 0))
        : null,
      p50: median(results.map((r) => r.p50)),
      p99: median(results.map((r) => r.p99)),
      errors: results.reduce((n, r) => n + r.errors, 0),
      runs: results,
    });
  }
  return summaries;
}
