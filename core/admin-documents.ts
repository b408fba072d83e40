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
