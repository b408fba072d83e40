/**
 * Staged-rollout math, evaluated at the edge from the head record and the clock (no write per step).
 * A client's bucket is FNV-1a-32 of `key \0 clientId` modulo 10,000; it is on the candidate when
 * `bucket < share * 100`, so a client in the cohort at p% stays in it at every higher p.
 * FNV is used rather than SHA-256 because this runs per request, synchronously, on the hot path;
 * cohort assignment needs spread, not secrecy.
 */

import { inRing, parseRingParams, type RequestLocation, type Ring } from "./rings";

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
  /**
   * Where the share applies (core/rings.ts); null or absent (heads written before rings): everywhere.
   * Outside the ring every request gets the stable version.
   */
  ring?: Ring | null;
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

/**
 * A rollout's health gate (DESIGN §8, "Health-gated rollouts"): the origin aborts by itself when
 * more than `maxRejected` percent of at least `minClients` clients reporting on the candidate
 * rejected it; `bakeSeconds` is how long it must run healthy before it may complete.
 */
export interface HealthGates {
  /** Percent, 0–100; null: no automatic abort (bake alone). */
  maxRejected: number | null;
  minClients: number;
  bakeSeconds: number;
}

/** min-clients when max-rejected is given without it: one bad host of one is not a signal. */
export const DEFAULT_MIN_CLIENTS = 10;
/** Parameters either mode takes: the health gates and the ring. */
const SHARED_PARAMS = ["max-rejected", "min-clients", "bake", "colos", "continents"];

export type RolloutHeaderValue = Pick<RolloutHead, "mode" | "percent" | "start" | "step" | "everySeconds"> & {
  gates: HealthGates | null;
  ring: Ring | null;
};

/**
 * Parses a `Config-Rollout` header: `30` or `linear; start=10; step=10; every=60`, either followed
 * by health-gate parameters `; max-rejected=10; min-clients=20; bake=300` and a ring
 * `; colos="AMS FRA"; continents="EU"` (core/rings.ts).
 */
export function parseRolloutHeader(
  header: string,
): { ok: true; value: RolloutHeaderValue } | { ok: false; reason: string } {
  const [head = "", ...params] = header.split(";").map((s) => s.trim());
  const values = new Map<string, string>();
  for (const param of params) {
    const [name, value, ...rest] = param.split("=").map((s) => s.trim());
    if (!name || value === undefined || rest.length > 0 || values.has(name))
      return { ok: false, reason: `bad parameter ${JSON.stringify(param)}` };
    values.set(name, value);
  }
  const gates = parseGates(values);
  if (!gates.ok) return gates;
  const ring = parseRingParams(values);
  if (!ring.ok) return ring;
  const percent = parsePercent(head);
  if (percent !== null) {
    if ([...values.keys()].some((k) => !SHARED_PARAMS.includes(k)))
      return { ok: false, reason: "unknown parameter" };
    return {
      ok: true,
      value: {
        mode: "fixed",
        percent,
        start: percent,
        step: 0,
        everySeconds: 0,
        gates: gates.value,
        ring: ring.value,
      },
    };
  }
  if (head !== "linear")
    return { ok: false, reason: "expected a percentage or 'linear; start=…; step=…; every=…'" };
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
  if ([...values.keys()].some((k) => !["start", "step", "every", ...SHARED_PARAMS].includes(k))) {
    return { ok: false, reason: "unknown parameter" };
  }
  return {
    ok: true,
    value: {
      mode: "linear",
      percent: start,
      start,
      step,
      everySeconds: every,
      gates: gates.value,
      ring: ring.value,
    },
  };
}

function parseGates(
  values: Map<string, string>,
): { ok: true; value: HealthGates | null } | { ok: false; reason: string } {
  const rawMax = values.get("max-rejected");
  const rawMin = values.get("min-clients");
  const rawBake = values.get("bake");
  if (rawMax === undefined && rawMin === undefined && rawBake === undefined) return { ok: true, value: null };
  const maxRejected = rawMax === undefined ? null : parsePercent(rawMax);
  if (rawMax !== undefined && maxRejected === null)
    return { ok: false, reason: "max-rejected must be a percentage from 0 to 100" };
  if (rawMin !== undefined && rawMax === undefined)
    return { ok: false, reason: "min-clients needs max-rejected" };
  const minClients = rawMin === undefined ? DEFAULT_MIN_CLIENTS : wholeNumber(rawMin, 1, 1_000_000);
  if (minClients === null)
    return { ok: false, reason: "min-clients must be a whole number from 1 to 1000000" };
  const bakeSeconds = rawBake === undefined ? 0 : wholeNumber(rawBake, 0, 86400 * 30);
  if (bakeSeconds === null) return { ok: false, reason: "bake must be whole seconds from 0 to 2592000" };
  return { ok: true, value: { maxRejected, minClients, bakeSeconds } };
}

function wholeNumber(text: string, min: number, max: number): number | null {
  if (!/^[0-9]{1,7}$/.test(text)) return null;
  const n = Number(text);
  return n >= min && n <= max ? n : null;
}

function parsePercent(text: string): number | null {
  if (!/^(100(\.0+)?|[0-9]{1,2}(\.[0-9]{1,2})?)$/.test(text)) return null;
  return Number(text);
}

/**
 * Whether a request gets the candidate: only inside the rollout's ring (everywhere without one;
 * `location` null: unknown, in no ring), and there everyone once the share reaches 100%; below
 * that only a client with an id whose bucket is in the share. Without an id there is no stable
 * cohort to put a client in, so it keeps the stable version (it would otherwise flip between
 * versions per request).
 */
export function servesCandidate(
  key: string,
  rollout: RolloutHead,
  clientId: string | null,
  nowMs: number,
  location: RequestLocation | null = null,
): boolean {
  if (!inRing(rollout.ring, location)) return false;
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
