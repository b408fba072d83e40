/**
 * The JSON documents the origin answers on its rollout and audit routes (docs/api.md), typed once
 * for every reader: the CLI and the origin's tests. Types only; the origin builds them.
 */

export interface RolloutStatus {
  key: string;
  state: "none" | "running" | "completed" | "aborted";
  live: { version: number; etag: string; publishedAt: string | null };
  stable?: { version: number };
  candidate?: { version: number; etag: string; publishedAt: string | null };
  mode?: "fixed" | "linear";
  percent?: number;
  start?: number;
  step?: number;
  everySeconds?: number;
  /** The share of clients on the candidate now (running rollouts only). */
  share?: number | null;
  /** When a linear rollout reaches everyone. */
  fullAt?: string | null;
  startedAt?: string;
  startedBy?: string;
  message?: string | null;
  endedAt?: string | null;
  endedBy?: string | null;
  resultVersion?: number | null;
  /** Health gates from Config-Rollout (docs/rollouts.md, "Health gates"). */
  gates?: {
    maxRejected: number | null;
    minClients: number | null;
    bakeSeconds: number;
    bakedAt: string | null;
  } | null;
  /** Why the origin aborted it by itself: the gate's figures, or the external alarm. */
  autoAbort?: {
    trigger: "health-gate" | "alarm";
    at: string | null;
    reporting: number;
    rejected: number;
    rejectedPercent: number;
    maxRejected: number | null;
    minClients: number | null;
    reasons: { reason: string; clients: number }[];
    alarm?: { name: string; detail: string | null };
  } | null;
  distribution?: string;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  key: string | null;
  fromVersion: number | null;
  toVersion: number | null;
  message: string | null;
  digest: string | null;
  detail: Record<string, unknown> | null;
}
