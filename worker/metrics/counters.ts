/**
 * Per-isolate counters for the edge (docs/operations.md, "Metrics"), emitted as one structured JSON
 * line (`event: "edge_metrics"`) at most every `intervalMs`, piggybacking on a request, and reset
 * after each line, so every line holds the deltas of its interval: ready for Workers Logs and
 * Logpush filters without a metrics backend.
 */
import { type CacheTier, logLine } from "../../core";
import type { FleetCounters } from "../fleet/recorder";

export const DEFAULT_METRICS_INTERVAL_MS = 60_000;

/** What the config route served, for counting (set as the `served` request variable). */
export interface ServedConfig {
  key: string;
  version: number;
  tier: CacheTier;
  stale: boolean;
  upstreamError?: string;
}

interface IntervalCounts {
  requests: number;
  byStatus: Record<string, number>;
  tiers: Record<CacheTier, number>;
  stale: number;
  /** Answers where KV failed: stale-if-error serves plus 503s. */
  kvErrors: number;
  purges: number;
}

function emptyCounts(): IntervalCounts {
  return {
    requests: 0,
    byStatus: {},
    tiers: { memory: 0, cache: 0, kv: 0, origin: 0 },
    stale: 0,
    kvErrors: 0,
    purges: 0,
  };
}

export class EdgeMetrics {
  readonly isolate = crypto.randomUUID().slice(0, 8);
  #counts = emptyCounts();
  #intervalStart: number | null = null;
  #fleetAtLastLine: FleetCounters = {
    recorded: 0,
    statusMalformed: 0,
    dropped: 0,
    batchesSent: 0,
    batchesFailed: 0,
  };

  constructor(readonly intervalMs: number = DEFAULT_METRICS_INTERVAL_MS) {}

  /** Counts one answer; `path` is needed only for POSTs (purges), null otherwise. */
  count(status: number, path: string | null, served: ServedConfig | undefined, nowMs: number): void {
    const c = this.#counts;
    c.requests++;
    c.byStatus[status] = (c.byStatus[status] ?? 0) + 1;
    if (served) {
      c.tiers[served.tier]++;
      if (served.stale) c.stale++;
      if (served.upstreamError) c.kvErrors++;
    } else if (status === 503) {
      c.kvErrors++;
    }
    if (path === "/internal/purge" && status === 200) c.purges++;
    this.#intervalStart ??= nowMs;
  }

  /** Whether the interval is over (a line is due). */
  due(nowMs: number): boolean {
    return this.#intervalStart !== null && nowMs - this.#intervalStart >= this.intervalMs;
  }

  /** The interval's line when it is over (and then a new interval starts), else null. */
  take(nowMs: number, fleet: FleetCounters & { pending: number }): Record<string, unknown> | null {
    if (this.#intervalStart === null || !this.due(nowMs)) return null;
    const c = this.#counts;
    const errors5xx = Object.entries(c.byStatus)
      .filter(([status]) => status.startsWith("5"))
      .reduce((n, [, count]) => n + count, 0);
    const last = this.#fleetAtLastLine;
    const line = {
      part: "edge",
      event: "edge_metrics",
      isolate: this.isolate,
      intervalMs: nowMs - this.#intervalStart,
      requests: c.requests,
      byStatus: c.byStatus,
      // Stale answers count as available: that is what stale-if-error is for (SLO, docs/operations.md).
      availability: c.requests === 0 ? 1 : Math.round(((c.requests - errors5xx) / c.requests) * 1e6) / 1e6,
      tiers: c.tiers,
      hitRatio: hitRatio(c.tiers),
      stale: c.stale,
      kvErrors: c.kvErrors,
      purges: c.purges,
      fleet: {
        recorded: fleet.recorded - last.recorded,
        statusMalformed: fleet.statusMalformed - last.statusMalformed,
        dropped: fleet.dropped - last.dropped,
        batchesSent: fleet.batchesSent - last.batchesSent,
        batchesFailed: fleet.batchesFailed - last.batchesFailed,
        pending: fleet.pending,
      },
    };
    this.#counts = emptyCounts();
    this.#intervalStart = nowMs;
    this.#fleetAtLastLine = { ...fleet };
    return line;
  }

  /** Logs the interval's line when due; returns it (tests read it). */
  emitIfDue(nowMs: number, fleet: FleetCounters & { pending: number }): Record<string, unknown> | null {
    const line = this.take(nowMs, fleet);
    if (line) logLine(line);
    return line;
  }
}

/** Share of config answers from the location (memory or Cache API) rather than KV. */
function hitRatio(tiers: Record<CacheTier, number>): number {
  const total = tiers.memory + tiers.cache + tiers.kv + tiers.origin;
  return total === 0 ? 1 : Math.round(((tiers.memory + tiers.cache) / total) * 1e4) / 1e4;
}
