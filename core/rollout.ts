/**
 * Staged-rollout math, evaluated at the edge from the head record and the clock (no write per step).
 * A client's bucket is FNV-1a-32 of `key \0 clientId` modulo 10,000; it is on the candidate when
 * `bucket < share * 100`, so a client in the cohort at p% stays in it at every higher p.
 * FNV is used rather than SHA-256 because this runs per request, synchronously, on the hot path;
 * cohort assignment needs spread, not secrecy.
 */

export const BUCKETS = 10_000;

export interface RolloutHead {
  /** The candidate version and its ETag. */
  candidate: { version: number; etag: string; publishedAt: number };
  /** "fixed": `percent` always; "linear": start + step per `every` seconds since startedAt, capped at 100. */
  mode: "fixed" | "linear";
  percent: number;
  start: number;
  step: number;
  everySeconds: number;
  startedAt: number;
}

export function bucketOf(key: string, clientId: string): number {
  let hash = 0x811c9dc5;
  const input = `${key}\0${clientId}`;
  for (let i = 0; i < input.length; i++) {
    hash ^= input.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % BUCKETS;
}

/** The rollout's share of clients (0–100, two decimals) at `nowMs`. */
export function shareAt(rollout: RolloutHead, nowMs: number): number {
  if (rollout.mode === "fixed") return clampPercent(rollout.percent);
  const steps = Math.max(0, Math.floor((nowMs - rollout.startedAt) / (rollout.everySeconds * 1000)));
  return clampPercent(rollout.start + steps * rollout.step);
}

export function inCohort(bucket: number, percent: number): boolean {
  return bucket < Math.round(percent * 100);
}

function clampPercent(p: number): number {
  return Math.min(100, Math.max(0, Math.round(p * 100) / 100));
}

/** Parses a `Config-Rollout` header: `30` or `linear; start=10; step=10; every=60`. */
export function parseRolloutHeader(
  header: string,
):
  | { ok: true; value: Pick<RolloutHead, "mode" | "percent" | "start" | "step" | "everySeconds"> }
  | { ok: false; reason: string } {
  const trimmed = header.trim();
  const percent = parsePercent(trimmed);
  if (percent !== null) {
    return { ok: true, value: { mode: "fixed", percent, start: percent, step: 0, everySeconds: 0 } };
  }
  const [mode, ...params] = trimmed.split(";").map((s) => s.trim());
  if (mode !== "linear")
    return { ok: false, reason: "expected a percentage or 'linear; start=…; step=…; every=…'" };
  const values = new Map<string, string>();
  for (const param of params) {
    const [name, value] = param.split("=").map((s) => s.trim());
    if (!name || value === undefined || values.has(name))
      return { ok: false, reason: `bad parameter ${JSON.stringify(param)}` };
    values.set(name, value);
  }
  const start = parsePercent(values.get("start") ?? "");
  const step = parsePercent(values.get("step") ?? "");
  const every = Number(values.get("every"));
  if (
    start === null ||
    step === null ||
    step <= 0 ||
    !Number.isInteger(every) ||
    every < 1 ||
    every > 86400 * 30
  ) {
    return { ok: false, reason: "linear needs start=0..100, step=0..100 (>0) and every=1..2592000 seconds" };
  }
  if ([...values.keys()].some((k) => !["start", "step", "every"].includes(k))) {
    return { ok: false, reason: "unknown parameter" };
  }
  return { ok: true, value: { mode: "linear", percent: start, start, step, everySeconds: every } };
}

function parsePercent(text: string): number | null {
  if (!/^(100(\.0+)?|[0-9]{1,2}(\.[0-9]{1,2})?)$/.test(text)) return null;
  return Number(text);
}

/**
 * Whether a request gets the candidate: everyone once the share reaches 100%; below that only a
 * client with an id whose bucket is in the share. Without an id there is no stable cohort to put a
 * client in, so it keeps the stable version (it would otherwise flip between versions per request).
 */
export function servesCandidate(
  key: string,
  rollout: RolloutHead,
  clientId: string | null,
  nowMs: number,
): boolean {
  const share = shareAt(rollout, nowMs);
  if (share >= 100) return true;
  if (clientId === null) return false;
  return inCohort(bucketOf(key, clientId), share);
}

/** When the rollout serves the candidate to everyone (ms), or null when it never will by itself. */
export function fullShareAt(rollout: RolloutHead): number | null {
  if (shareAt(rollout, rollout.startedAt) >= 100) return rollout.startedAt;
  if (rollout.mode === "fixed" || rollout.step <= 0 || rollout.everySeconds <= 0) return null;
  const period = rollout.everySeconds * 1000;
  let steps = Math.ceil((100 - rollout.start) / rollout.step);
  // Float division may overshoot by one step (e.g. 0.1-sized steps): step back while still at 100.
  while (steps > 1 && shareAt(rollout, rollout.startedAt + (steps - 1) * period) >= 100) steps--;
  return rollout.startedAt + steps * period;
}
