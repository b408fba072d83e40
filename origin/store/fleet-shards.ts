/**
 * FleetStore shards (docs/operations.md, "FleetStore capacity"): a namespace's sightings are split
 * over FLEET_SHARDS objects by the edge location that saw them, so each object takes the batches
 * of 1/S of the isolates instead of all of them (one object's soft limit is about 1,000 requests/s,
 * and 1M clients from ~3,000 isolates would send one namespace's object ~1,500 batches/s). Reads
 * fan out: the view, the status counts and the health gates merge the shards' SQL counts. Shard 0
 * keeps the unsharded name (`idFromName(namespace)`), so data from before sharding stays readable.
 */
import {
  type FleetExpectation,
  type FleetGroup,
  type FleetReportGroup,
  type FleetView,
  fleetView,
} from "../../core";
import type { FleetShardReader, GateFigures, GateWatch } from "./fleet-types";

export interface FleetShardVars {
  /** How many FleetStore objects per namespace (1–64; default DEFAULT_FLEET_SHARDS). */
  FLEET_SHARDS?: string;
}

/** 8 shards: ~190 batches/s each at 1M clients from 3,000 isolates (the figure in docs/operations.md). */
export const DEFAULT_FLEET_SHARDS = 8;
export const MAX_FLEET_SHARDS = 64;

export function shardCount(env: FleetShardVars): number {
  const n = Number(env.FLEET_SHARDS ?? DEFAULT_FLEET_SHARDS);
  return Number.isSafeInteger(n) && n >= 1 && n <= MAX_FLEET_SHARDS ? n : DEFAULT_FLEET_SHARDS;
}

/** The shard a location's sightings go to: FNV-1a of the colo, so one location is one shard. */
export function shardOfColo(colo: string | null, shards: number): number {
  if (colo === null || shards <= 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < colo.length; i++) {
    hash ^= colo.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shards;
}

/** The object name of a namespace's shard: shard 0 keeps the unsharded name. */
export function shardName(namespace: string, shard: number): string {
  return shard === 0 ? namespace : `${namespace}#${shard}`;
}

/** The fleet view of one key across the namespace's shards. */
export async function fleetViewAcross(
  shards: readonly FleetShardReader[],
  expectation: FleetExpectation,
  sinceMs: number,
  nowMs: number,
): Promise<FleetView> {
  const parts = await Promise.all(shards.map((s) => s.viewGroups(expectation, sinceMs, nowMs)));
  const groups: FleetGroup[] = parts.flatMap((p) => p.groups);
  const reports: FleetReportGroup[] = parts.flatMap((p) => p.reports);
  return fleetView(groups, reports, expectation, nowMs);
}

/** Per key: clients seen since `sinceMs`, summed over the shards. */
export async function activeClientsAcross(
  shards: readonly FleetShardReader[],
  sinceMs: number,
): Promise<{ key: string; clients: number }[]> {
  const parts = await Promise.all(shards.map((s) => s.activeClients(sinceMs)));
  const sums = new Map<string, number>();
  for (const row of parts.flat()) sums.set(row.key, (sums.get(row.key) ?? 0) + row.clients);
  return [...sums.entries()]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([key, clients]) => ({ key, clients }));
}

/** A gate's figures across the shards: the candidate's reports since the rollout started. */
export async function gateFiguresAcross(
  shards: readonly FleetShardReader[],
  gate: Pick<GateWatch, "key" | "candidate" | "startedAt" | "maxRejected" | "minClients">,
): Promise<GateFigures> {
  const parts = await Promise.all(shards.map((s) => s.gateCounts(gate)));
  const reporting = parts.reduce((n, p) => n + p.reporting, 0);
  const rejected = parts.reduce((n, p) => n + p.rejected, 0);
  const reasons = new Map<string, number>();
  for (const r of parts.flatMap((p) => p.reasons))
    reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + r.clients);
  return {
    reporting,
    rejected,
    rejectedPercent: reporting === 0 ? 0 : Math.round((rejected / reporting) * 10_000) / 100,
    maxRejected: gate.maxRejected,
    minClients: gate.minClients,
    reasons: [...reasons.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([reason, clients]) => ({ reason, clients })),
  };
}
