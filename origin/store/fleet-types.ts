/**
 * What the fleet's Durable Objects need of each other, as interfaces (FleetStore and
 * NamespaceStore implement them): the shards' counts, the gate watch, the automatic abort. Kept
 * apart so fleet-store.ts, fleet-shards.ts and store-core.ts need not import one another's
 * classes (test/unit/origin/import-cycles.test.ts: no cycle, type-only imports included).
 */
import type { FleetExpectation, FleetGroup, FleetReportGroup } from "../../core";
import type { HealthAbortInput } from "./types";

/** A rollout's health gate as FleetStore watches it (docs/rollouts.md). */
export interface GateWatch {
  namespace: string;
  key: string;
  candidate: number;
  stable: number;
  startedAt: number;
  /** Percent (0–100) of reporting clients that may reject the candidate. */
  maxRejected: number;
  minClients: number;
}

/** One shard's reports on the candidate since the rollout started. */
export interface GateCounts {
  reporting: number;
  rejected: number;
  reasons: { reason: string; clients: number }[];
}

/** The candidate's reports since the rollout started, over every shard: what the gate decides on. */
export interface GateFigures extends GateCounts {
  /** rejected / reporting in percent, two decimals (0 when none report). */
  rejectedPercent: number;
  maxRejected: number;
  minClients: number;
}

/** One FleetStore shard as the view, the status page and the gates read it (a stub's methods). */
export interface FleetShardReader {
  viewGroups(
    expectation: FleetExpectation,
    sinceMs: number,
    nowMs: number,
  ): Promise<{ groups: FleetGroup[]; reports: FleetReportGroup[] }>;
  activeClients(sinceMs: number): Promise<{ key: string; clients: number }[]>;
  gateCounts(gate: Pick<GateWatch, "key" | "candidate" | "startedAt">): Promise<GateCounts>;
}

/** What the NamespaceStore needs of its FleetStore: to hand it a gated rollout. */
export interface GateWatcher extends Rpc.DurableObjectBranded {
  watch(gate: GateWatch): Promise<void>;
  /** Ends the watch of the key's rollout of `candidate` (it completed or was aborted). */
  unwatch(key: string, candidate: number): void;
}

/** The NamespaceStore as FleetStore's gate check calls it. */
export interface HealthAborter extends Rpc.DurableObjectBranded {
  abortForHealth(input: HealthAbortInput): Promise<{ ok: true } | { ok: false; code: string }>;
}
