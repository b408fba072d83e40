/**
 * When Config-Freshness proofs are re-signed: at half of their lifetime, by the NamespaceStore's
 * Durable Object alarm, which it shares with drain retries (a Durable Object has one alarm). The
 * alarm puts every live key whose proof reached half-life back in the outbox; the drain that
 * follows signs new proofs into the heads and purges the edge (drain.ts `proofsFor`). So the edge,
 * which holds no private key, always has a proof with at least half its lifetime left, give or
 * take KV's propagation (≤ 60 s) and a failed drain's retries.
 */
import { enqueue } from "../store/tables";
import { proofsDue } from "../store/trust-tables";

/** The moment (seconds) a proof is re-signed: half-way, rounded down as SQLite's integer `/` does. */
export function halfLife(proof: { iat: number; exp: number }): number {
  return proof.iat + Math.floor((proof.exp - proof.iat) / 2);
}

/**
 * Sets the alarm for `atMs` unless one is already set for earlier, still in the future. An alarm
 * time in the past is the alarm now running (getAlarm reports it until its handler returns, and
 * then workerd clears it), so it does not count: without this, a retry or re-sign scheduled from
 * inside alarm() would be lost.
 */
export async function alarmNoLaterThan(storage: DurableObjectStorage, atMs: number): Promise<void> {
  const current = await storage.getAlarm();
  if (current === null || current > atMs || current <= Date.now()) await storage.setAlarm(atMs);
}

/** Puts the keys whose proofs are due back in the outbox; returns how many. */
export function enqueueDueProofs(sql: SqlStorage, nowMs: number): number {
  const { keys } = proofsDue(sql, Math.floor(nowMs / 1000));
  for (const key of keys) enqueue(sql, "key", key, nowMs);
  return keys.length;
}

/** Arms the alarm for the earliest half-life among live keys' proofs (none: leaves it alone). */
export async function armFreshnessAlarm(storage: DurableObjectStorage, nowMs: number): Promise<void> {
  const { keys, next } = proofsDue(storage.sql, Math.floor(nowMs / 1000));
  // A key already due (its re-drain failed, or it became due meanwhile) is retried at once.
  if (keys.length > 0) return alarmNoLaterThan(storage, nowMs + 1000);
  if (next !== null) await alarmNoLaterThan(storage, next * 1000);
}
