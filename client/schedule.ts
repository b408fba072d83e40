/**
 * When to poll next. Pure functions of the previous outcome, so the policy is testable without
 * timers:
 * - after a good answer (200 or 304): `max(intervalMs, max-age)` plus up to 10 % jitter, so a
 *   client never polls faster than its interval nor faster than the edge says the answer stays
 *   fresh, and a fleet restarted at once spreads out instead of polling in lockstep;
 * - after a failure: exponential backoff with full jitter ("Exponential Backoff And Jitter",
 *   AWS Architecture Blog, 2015): uniform in [0, min(cap, base·2^attempt)), and never sooner than
 *   the server's Retry-After (RFC 9110 §10.2.3), which is itself capped so a hostile or broken
 *   value cannot silence a client for days, plus up to 50 % jitter on top of it, so the waiters an
 *   edge turned away together (its long-poll cap, DESIGN §8) do not all come back in one burst;
 * - after a long-poll (RFC 7240 `Prefer: wait`) the edge honoured: at once, since the edge itself
 *   did the waiting (`pollAgainAtOnce`).
 */

export const DEFAULT_INTERVAL_MS = 5_000;
export const DEFAULT_MAX_BACKOFF_MS = 60_000;
export const MAX_RETRY_AFTER_MS = 3_600_000;
const SUCCESS_JITTER = 0.1;
const RETRY_AFTER_JITTER = 0.5;

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
  const floor = Math.min(retryAfter, MAX_RETRY_AFTER_MS);
  const spread = Math.floor(floor * RETRY_AFTER_JITTER * policy.random());
  return Math.max(jittered, Math.min(floor + spread, MAX_RETRY_AFTER_MS));
}

/** What one good answer (200 or 304) said about long-polling, for `pollAgainAtOnce`. */
export interface LongPollAnswer {
  /** The client has long-polling on (`longPoll` option). */
  enabled: boolean;
  /** The request carried `Prefer: wait` (only requests conditional on an accepted snapshot do). */
  asked: boolean;
  /** The answer delivered a version the client did not hold. */
  changed: boolean;
  /** Seconds from `Preference-Applied: wait=<s>`, or null when the edge did not hold the request. */
  appliedWaitSeconds: number | null;
  /** How long the request took. */
  elapsedMs: number;
}

/**
 * Whether to send the next request at once rather than after the interval. Yes when the edge held
 * the request (its answer is the end of a wait, so sleeping would only delay the next change), when
 * the request did not ask for one (the first fetch, or the one confirming the cache file's
snapshot, which must not be held up: ask for a wait straight away), and after a
 * change (the next one may follow quickly; an edge that ignores waits costs one extra request).
 * No when the edge did not say `Preference-Applied` (interval polling, as without long-poll), and
 * no when it says it held but answered "unchanged" in under half the wait: an edge or proxy that
 * cuts waits short must not turn the client into a busy loop.
 */
export function pollAgainAtOnce(answer: LongPollAnswer): boolean {
  if (!answer.enabled) return false;
  if (!answer.asked || answer.changed) return true;
  if (answer.appliedWaitSeconds === null) return false;
  return answer.elapsedMs >= answer.appliedWaitSeconds * 500;
}
