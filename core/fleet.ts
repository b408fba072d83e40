/**
 * The fleet convergence view's shared rules (docs/operations.md, "Fleet view"): the batch the edge
 * sends the origin (`POST /internal/fleet`), its parser, and the convergence math the origin
 * applies to the last-seen table. Pure: no bindings, no I/O.
 */
import { isClientId } from "./client-id";
import { MAX_REJECT_REASON_LENGTH } from "./client-status";
import { isValidSegment, parseKey } from "./keys";
import { inRing } from "./rings";
import { BUCKETS, type RolloutHead, shareAt } from "./rollout";

/** The most sightings one batch may carry; the edge never sends more. */
export const MAX_FLEET_BATCH = 2000;
/** The longest window a fleet view may ask for, and how long the origin keeps a sighting. */
export const MAX_FLEET_WINDOW_SECONDS = 86_400;
export const DEFAULT_FLEET_WINDOW_SECONDS = 300;

const COLO = /^[A-Za-z0-9-]{1,16}$/;
const CONTINENT = /^[A-Z]{2}$/;

/** One client seen polling one key at the edge: the version it was served and when. */
export interface FleetSighting {
  key: string;
  version: number;
  clientId: string;
  /** Edge clock, ms since the epoch. */
  seenAt: number;
  /** The Cloudflare location (`request.cf.colo`), when known. */
  colo: string | null;
  /** Its continent (`request.cf.continent`), when known: rings may name continents. */
  continent?: string | null;
  /** The version this isolate served the client before `version`, when it changed between flushes. */
  previous?: number | null;
  /** From its `Config-Client-Status` (core/client-status.ts): the last version it applied. */
  applied?: number | null;
  /** From its `Config-Client-Status`: a version it refused or failed to apply, and why. */
  rejected?: number | null;
  reason?: string | null;
  /**
   * In a private namespace, the read token's `sub`: a client id, once seen with one subject, is
   * not taken over by another (FleetStore), so a token cannot skew other holders' rows.
   */
  subject?: string | null;
}

export interface FleetBatch {
  sightings: FleetSighting[];
  /** Sightings the sending isolate dropped since its last batch (its table was full). */
  dropped: number;
}

export type FleetBatchParse = { ok: true; value: FleetBatch } | { ok: false; reason: string };

/** Parses a batch from the edge, refusing it whole if any entry is malformed. */
export function parseFleetBatch(text: string): FleetBatchParse {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, reason: "the body is not JSON" };
  }
  if (typeof body !== "object" || body === null || Array.isArray(body))
    return { ok: false, reason: "the body must be an object" };
  const { sightings, dropped = 0 } = body as { sightings?: unknown; dropped?: unknown };
  if (!Array.isArray(sightings)) return { ok: false, reason: "sightings must be an array" };
  if (sightings.length > MAX_FLEET_BATCH)
    return { ok: false, reason: `at most ${MAX_FLEET_BATCH} sightings per batch` };
  if (typeof dropped !== "number" || !Number.isSafeInteger(dropped) || dropped < 0)
    return { ok: false, reason: "dropped must be a non-negative integer" };
  const parsed: FleetSighting[] = [];
  for (const raw of sightings) {
    const sighting = parseSighting(raw);
    if (sighting === null) return { ok: false, reason: "sightings holds an invalid entry" };
    parsed.push(sighting);
  }
  return { ok: true, value: { sightings: parsed, dropped } };
}

function parseSighting(raw: unknown): FleetSighting | null {
  if (typeof raw !== "object" || raw === null) return null;
  const {
    key,
    version,
    clientId,
    seenAt,
    colo = null,
    continent = null,
    previous = null,
    applied = null,
    rejected = null,
    reason = null,
    subject = null,
  } = raw as Record<string, unknown>;
  if (typeof key !== "string" || !parseKey(key).ok) return null;
  if (!isVersion(version)) return null;
  if (!isClientId(clientId)) return null;
  if (typeof seenAt !== "number" || !Number.isSafeInteger(seenAt) || seenAt < 0) return null;
  if (colo !== null && (typeof colo !== "string" || !COLO.test(colo))) return null;
  if (continent !== null && (typeof continent !== "string" || !CONTINENT.test(continent))) return null;
  if (![previous, applied, rejected].every((v) => v === null || isVersion(v))) return null;
  if (reason !== null && (typeof reason !== "string" || reason.length > MAX_REJECT_REASON_LENGTH))
    return null;
  if (subject !== null && (typeof subject !== "string" || subject.length > 256)) return null;
  return {
    key,
    version,
    clientId,
    seenAt,
    colo,
    continent,
    previous: previous as number | null,
    applied: applied as number | null,
    rejected: rejected as number | null,
    reason: reason as string | null,
    subject: subject as string | null,
  };
}

function isVersion(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 1;
}

/** The namespace of a sighting's key (already validated by parseFleetBatch). */
export function namespaceOfKey(key: string): string {
  const namespace = key.split("/")[0] ?? "";
  return isValidSegment(namespace) ? namespace : "";
}

/** What the fleet should hold: the live version and, during a rollout, its candidate. */
export interface FleetExpectation {
  key: string;
  current: number;
  rollout: RolloutHead | null;
}

/**
 * One group of last sightings, counted in SQL by FleetStore (no row is loaded): clients on
 * `version` in `colo` (and `continent`), whether their bucket is in the rollout's share, and how
 * many of them reported having applied / rejected the version they were served.
 */
export interface FleetGroup {
  version: number;
  colo: string | null;
  continent: string | null;
  /** The bucket is in the share; the ring (if any) is applied by fleetView from the location. */
  inCohort: boolean;
  clients: number;
}

/** Clients whose status names `version` as applied or rejected, grouped like FleetGroup. */
export interface FleetReportGroup {
  version: number;
  colo: string | null;
  continent: string | null;
  inCohort: boolean;
  applied: number;
  rejected: number;
}

export interface FleetCounts {
  clients: number;
  applied: number;
  rejected: number;
}

export interface FleetView {
  clients: number;
  /** Per version: clients served it, and clients reporting it applied / rejected. */
  versions: ({ version: number } & FleetCounts)[];
  /** Share (0–1, 4 decimals) of clients holding the version meant for them; 0 when none were seen. */
  converged: number;
  /** Per colo; during a rollout with a ring, `inRing` says whether the share applies there. */
  locations: ({ colo: string; converged: number; inRing?: boolean } & FleetCounts)[];
  rollout: {
    candidate: number;
    stable: number;
    share: number;
    /** Per cohort: the candidate's cohort (applied/rejected of the candidate) and the rest (of the stable). */
    cohorts: { candidate: FleetCounts & { converged: number }; stable: FleetCounts & { converged: number } };
  } | null;
}

/**
 * The bucket bound of the candidate's cohort now (core/rollout.ts): a client is in it when its
 * bucket is below this; everyone at 100%. FleetStore compares the stored bucket with it in SQL.
 */
export function cohortBound(rollout: RolloutHead | null, nowMs: number): number {
  if (rollout === null) return 0;
  const share = shareAt(rollout, nowMs);
  return share >= 100 ? BUCKETS : Math.round(share * 100);
}

/** The version a client should hold now: during a rollout, the candidate for its cohort. */
export function expectedVersion(expectation: FleetExpectation, inCohort: boolean): number {
  const { rollout } = expectation;
  return rollout !== null && inCohort ? rollout.candidate.version : expectation.current;
}

/**
 * Whether a group's clients are on the candidate's side: their bucket is in the share and their
 * location in the rollout's ring (core/rings.ts; no ring: everywhere; unknown location: outside).
 */
function onCandidateSide(expectation: FleetExpectation, g: FleetGroup | FleetReportGroup): boolean {
  const ring = expectation.rollout?.ring;
  if (!g.inCohort) return false;
  if (!ring) return true;
  const known = g.colo !== null || g.continent !== null;
  return inRing(ring, known ? { colo: g.colo, continent: g.continent } : null);
}

/** Folds the SQL groups into the fleet view (versions newest first, locations by name). */
export function fleetView(
  groupsInShare: readonly FleetGroup[],
  reportsInShare: readonly FleetReportGroup[],
  expectation: FleetExpectation,
  nowMs: number,
): FleetView {
  const groups = groupsInShare.map((g) => ({ ...g, inCohort: onCandidateSide(expectation, g) }));
  const reports = reportsInShare.map((r) => ({ ...r, inCohort: onCandidateSide(expectation, r) }));
  const ring = expectation.rollout?.ring ?? null;
  // A colo is in the ring by its own code or by its continent (seen with any of its clients).
  const ringColos = new Set<string>();
  if (ring) {
    for (const g of groups) {
      if (g.colo !== null && (ring.colos.includes(g.colo) || ring.continents.includes(g.continent ?? "")))
        ringColos.add(g.colo);
    }
  }
  type Tally = FleetCounts & { converged: number };
  const versions = new Map<number, Tally>();
  const locations = new Map<string, Tally>();
  const cohorts = { candidate: emptyCohort(), stable: emptyCohort() };
  const tally = <K>(map: Map<K, Tally>, at: K): Tally => {
    const known = map.get(at);
    if (known) return known;
    const entry = emptyCohort();
    map.set(at, entry);
    return entry;
  };
  let clients = 0;
  let converged = 0;
  for (const g of groups) {
    clients += g.clients;
    tally(versions, g.version).clients += g.clients;
    const location = tally(locations, g.colo ?? "unknown");
    location.clients += g.clients;
    const cohort = g.inCohort ? cohorts.candidate : cohorts.stable;
    cohort.clients += g.clients;
    if (g.version === expectedVersion(expectation, g.inCohort)) {
      converged += g.clients;
      location.converged += g.clients;
      cohort.converged += g.clients;
    }
  }
  for (const r of reports) {
    const version = tally(versions, r.version);
    version.applied += r.applied;
    version.rejected += r.rejected;
    const location = tally(locations, r.colo ?? "unknown");
    location.applied += r.applied;
    location.rejected += r.rejected;
    const cohort = r.inCohort ? cohorts.candidate : cohorts.stable;
    if (r.version === expectedVersion(expectation, r.inCohort)) {
      cohort.applied += r.applied;
      cohort.rejected += r.rejected;
    }
  }
  const { rollout } = expectation;
  return {
    clients,
    versions: [...versions.entries()]
      .sort((a, b) => b[0] - a[0])
      .map(([version, c]) => ({ version, clients: c.clients, applied: c.applied, rejected: c.rejected })),
    converged: shareOf(converged, clients),
    locations: [...locations.entries()]
      .sort((a, b) => a[0].localeCompare(b[0]))
      .map(([colo, l]) => ({
        colo,
        clients: l.clients,
        converged: shareOf(l.converged, l.clients),
        applied: l.applied,
        rejected: l.rejected,
        ...(ring ? { inRing: ringColos.has(colo) } : {}),
      })),
    rollout:
      rollout === null
        ? null
        : {
            candidate: rollout.candidate.version,
            stable: expectation.current,
            share: shareAt(rollout, nowMs),
            cohorts: {
              candidate: {
                ...cohorts.candidate,
                converged: shareOf(cohorts.candidate.converged, cohorts.candidate.clients),
              },
              stable: {
                ...cohorts.stable,
                converged: shareOf(cohorts.stable.converged, cohorts.stable.clients),
              },
            },
          },
  };
}

function emptyCohort(): FleetCounts & { converged: number } {
  return { clients: 0, applied: 0, rejected: 0, converged: 0 };
}

function shareOf(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 10_000;
}
