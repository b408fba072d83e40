/**
 * The fleet convergence view's shared rules (docs/operations.md, "Fleet view"): the batch the edge
 * sends the origin (`POST /internal/fleet`), its parser, and the convergence math the origin
 * applies to the last-seen table. Pure: no bindings, no I/O.
 */
import { isClientId } from "./client-id";
import { isValidSegment, parseKey } from "./keys";
import { type RolloutHead, servesCandidate, shareAt } from "./rollout";

/** The most sightings one batch may carry; the edge never sends more. */
export const MAX_FLEET_BATCH = 2000;
/** The longest window a fleet view may ask for, and how long the origin keeps a sighting. */
export const MAX_FLEET_WINDOW_SECONDS = 86_400;
export const DEFAULT_FLEET_WINDOW_SECONDS = 300;

const COLO = /^[A-Za-z0-9-]{1,16}$/;

/** One client seen polling one key at the edge: the version it was served and when. */
export interface FleetSighting {
  key: string;
  version: number;
  clientId: string;
  /** Edge clock, ms since the epoch. */
  seenAt: number;
  /** The Cloudflare location (`request.cf.colo`), when known. */
  colo: string | null;
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
  const { key, version, clientId, seenAt, colo = null } = raw as Record<string, unknown>;
  if (typeof key !== "string" || !parseKey(key).ok) return null;
  if (typeof version !== "number" || !Number.isSafeInteger(version) || version < 1) return null;
  if (!isClientId(clientId)) return null;
  if (typeof seenAt !== "number" || !Number.isSafeInteger(seenAt) || seenAt < 0) return null;
  if (colo !== null && (typeof colo !== "string" || !COLO.test(colo))) return null;
  return { key, version, clientId, seenAt, colo };
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

/** One client's last sighting of a key within the window. */
export interface LastSeen {
  clientId: string;
  version: number;
  colo: string | null;
}

export interface FleetView {
  clients: number;
  versions: { version: number; clients: number }[];
  /** Share (0–1, 4 decimals) of clients holding the version meant for them; 0 when none were seen. */
  converged: number;
  locations: { colo: string; clients: number; converged: number }[];
  rollout: { candidate: number; stable: number; share: number } | null;
}

/**
 * The version a client should hold now: the current one, or during a rollout the candidate for
 * clients in its cohort (core/rollout.ts, the same math the edge serves by) and the stable one
 * for the rest.
 */
export function expectedVersion(expectation: FleetExpectation, clientId: string, nowMs: number): number {
  const { rollout } = expectation;
  if (rollout === null) return expectation.current;
  return servesCandidate(expectation.key, rollout, clientId, nowMs)
    ? rollout.candidate.version
    : expectation.current;
}

/** Aggregates last sightings into the fleet view (versions newest first, locations by name). */
export function fleetView(
  rows: readonly LastSeen[],
  expectation: FleetExpectation,
  nowMs: number,
): FleetView {
  const versions = new Map<number, number>();
  const locations = new Map<string, { clients: number; converged: number }>();
  let converged = 0;
  for (const row of rows) {
    versions.set(row.version, (versions.get(row.version) ?? 0) + 1);
    const ok = row.version === expectedVersion(expectation, row.clientId, nowMs);
    if (ok) converged++;
    const colo = row.colo ?? "unknown";
    const location = locations.get(colo) ?? { clients: 0, converged: 0 };
    location.clients++;
    if (ok) location.converged++;
    locations.set(colo, location);
  }
  const { rollout } = expectation;
  return {
    clients: rows.length,
    versions: [...versions.entries()]
      .sort((a, b) => b[0] - a[0])
      .map(([version, clients]) => ({ version, clients })),
    converged: shareOf(converged, rows.length),
    locations: [...locations.entries()]
      .sort((a, b) => a[0].localeCompare(b[0]))
      .map(([colo, l]) => ({ colo, clients: l.clients, converged: shareOf(l.converged, l.clients) })),
    rollout:
      rollout === null
        ? null
        : {
            candidate: rollout.candidate.version,
            stable: expectation.current,
            share: shareAt(rollout, nowMs),
          },
  };
}

function shareOf(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 10_000;
}
