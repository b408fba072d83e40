/**
 * When to poll next. Pure functions of the previous outcome, so the policy is testable without
 * timers:
 * - after a good answer (200 or 304): `max(intervalMs, max-age)` plus up to 10 % jitter, so a
 *   client never polls faster than its interval nor faster than the edge says the answer stays
 *   fresh, and a fleet restarted at once spreads out instead of polling in lockstep;
 * - after a failure: exponential backoff with full jitter ("Exponential Backoff And Jitter",
 *   AWS Architecture Blog, 2015): uniform in [0, min(cap, base·2^attempt)), and never sooner than
 *   the server's Retry-After (RFC 9110 §10.2.3), which is itself capped so a hostile or broken
 *   value cannot silence a client for days.
 */

export const DEFAULT_INTERVAL_MS = 5_000;
export const DEFAULT_MAX_BACKOFF_MS = 60_000;
export const MAX_RETRY_AFTER_MS = 3_600_000;
const SUCCESS_JITTER = 0.1;

export interface SchedulePolicy {
  intervalMs: number;
  maxBackoffMs: number;
  random: () => number;
}

export function delayAfterSuccess(policy: SchedulePolicy, freshnessSeconds: number | null): number {
  const base = Math.max(policy.intervalMs, (freshnessSeconds ?? 0) * 1000);
  return Math.round(base + base * SUCCESS_JITTER * policy.random());
}

/** Upper bound of the backoff window for the n-th consecutive failure (n counts from 1). */
export function backoffCeiling(policy: SchedulePolicy, failures: number): number {
  const cap = Math.max(policy.maxBackoffMs, policy.intervalMs);
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  return Math.min(cap, policy.intervalMs * 2 ** exponent);
}

export function delayAfterFailure(
  policy: SchedulePolicy,
  failures: number,
  retryAfter: number | null,
): number {
  const jittered = Math.floor(policy.random() * backoffCeiling(policy, failures));
  if (retryAfter === null) return jittered;
  return Math.max(jittered, Math.min(retryAfter, MAX_RETRY_AFTER_MS));
}
