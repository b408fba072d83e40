/**
 * Rings (docs/rollouts.md, "Rings: one location first"): the set of locations where a rollout's
 * share applies. A location is a Cloudflare colo (`request.cf.colo`, an IATA code such as AMS)
 * and its continent (`request.cf.continent`). A request is in the ring when its colo is one of
 * `colos` or its continent one of `continents`; a request whose location is unknown (no `cf`) is
 * in no ring. No ring (null) is everywhere, as before rings existed. Pure: no bindings, no I/O.
 */

/** Cloudflare's `request.cf.continent` codes. */
export const CONTINENTS = ["AF", "AN", "AS", "EU", "NA", "OC", "SA"] as const;
/** The most colos one ring names: a ring that large is better written as continents. */
export const MAX_RING_COLOS = 64;
const COLO_CODE = /^[A-Z]{3}$/;

export interface Ring {
  /** IATA colo codes, upper-case, sorted, no repeats. */
  colos: string[];
  /** Continent codes (CONTINENTS), sorted, no repeats. */
  continents: string[];
}

/** Where a request reached the edge; either part may be unknown. */
export interface RequestLocation {
  colo: string | null;
  continent: string | null;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Whether a request at `location` is inside `ring` (no ring: everywhere; unknown location: nowhere). */
export function inRing(ring: Ring | null | undefined, location: RequestLocation | null): boolean {
  if (ring === null || ring === undefined) return true;
  if (location === null) return false;
  return (
    (location.colo !== null && ring.colos.includes(location.colo)) ||
    (location.continent !== null && ring.continents.includes(location.continent))
  );
}

/** Checks one list of codes (colos or continents) and returns it sorted without repeats. */
export function parseRingCodes(kind: "colos" | "continents", codes: readonly string[]): Parsed<string[]> {
  const valid = kind === "colos" ? isColoCode : isContinentCode;
  const bad = codes.find((code) => !valid(code));
  if (bad !== undefined) {
    return {
      ok: false,
      reason:
        kind === "colos"
          ? `colos takes upper-case three-letter IATA colo codes such as AMS, not ${JSON.stringify(bad)}`
          : `continents takes ${CONTINENTS.join(" ")}, not ${JSON.stringify(bad)}`,
    };
  }
  const unique = [...new Set(codes)].sort();
  if (kind === "colos" && unique.length > MAX_RING_COLOS)
    return { ok: false, reason: `colos names at most ${MAX_RING_COLOS} locations` };
  return { ok: true, value: unique };
}

/** A ring from checked lists; null (everywhere) when both are empty. */
export function ringOf(colos: readonly string[], continents: readonly string[]): Ring | null {
  if (colos.length === 0 && continents.length === 0) return null;
  return { colos: [...new Set(colos)].sort(), continents: [...new Set(continents)].sort() };
}

/**
 * Whether `next` keeps every location of `current` (cohorts only grow). Sets are compared as
 * written: a colo stays listed even when a continent added covers it, since fleetconf keeps no
 * colo-to-continent table to prove that it does.
 */
export function ringWidens(current: Ring | null, next: Ring | null): Parsed<null> {
  if (current === null) {
    return next === null
      ? { ok: true, value: null }
      : { ok: false, reason: "the rollout already applies everywhere; a ring would narrow it" };
  }
  if (next === null) return { ok: true, value: null };
  const missing = [
    ...current.colos.filter((code) => !next.colos.includes(code)),
    ...current.continents.filter((code) => !next.continents.includes(code)),
  ];
  if (missing.length === 0) return { ok: true, value: null };
  return { ok: false, reason: `it leaves out ${missing.join(" ")}, which the ring already holds` };
}

export function sameRing(a: Ring | null | undefined, b: Ring | null | undefined): boolean {
  return describeRing(a ?? null) === describeRing(b ?? null);
}

/** A ring in words, for messages and the audit log: `colos=AMS FRA; continents=EU` or `everywhere`. */
export function describeRing(ring: Ring | null): string {
  if (ring === null) return "everywhere";
  const parts = [];
  if (ring.colos.length > 0) parts.push(`colos=${ring.colos.join(" ")}`);
  if (ring.continents.length > 0) parts.push(`continents=${ring.continents.join(" ")}`);
  return parts.join("; ");
}

/**
 * Reads the `colos="…"` / `continents="…"` parameters of `Config-Rollout`: each an RFC 8941
 * string (RFC 8941 §3.3.3) of space-separated codes. Null when neither is given.
 */
export function parseRingParams(values: ReadonlyMap<string, string>): Parsed<Ring | null> {
  const lists: Record<"colos" | "continents", string[]> = { colos: [], continents: [] };
  for (const kind of ["colos", "continents"] as const) {
    const raw = values.get(kind);
    if (raw === undefined) continue;
    const match = /^"([A-Za-z0-9 ]*)"$/.exec(raw);
    const codes = match?.[1]?.trim().split(/ +/).filter(Boolean) ?? [];
    if (codes.length === 0) {
      const example = kind === "colos" ? 'colos="AMS FRA"' : 'continents="EU NA"';
      return {
        ok: false,
        reason: `${kind} must be a quoted list of codes separated by spaces, e.g. ${example}`,
      };
    }
    const parsed = parseRingCodes(kind, codes);
    if (!parsed.ok) return parsed;
    lists[kind] = parsed.value;
  }
  return { ok: true, value: ringOf(lists.colos, lists.continents) };
}

/** The ring as `Config-Rollout` parameters (`; colos="AMS"; continents="EU"`), or "" for none. */
export function ringParams(ring: Ring | null): string {
  if (ring === null) return "";
  let text = "";
  if (ring.colos.length > 0) text += `; colos="${ring.colos.join(" ")}"`;
  if (ring.continents.length > 0) text += `; continents="${ring.continents.join(" ")}"`;
  return text;
}

/** A stored or received ring checked field by field (KV heads, SQLite rows): null when malformed. */
export function ringFrom(value: unknown): Ring | null | "malformed" {
  if (value === null || value === undefined) return null;
  if (typeof value !== "object" || Array.isArray(value)) return "malformed";
  const colos: unknown = Reflect.get(value, "colos");
  const continents: unknown = Reflect.get(value, "continents");
  if (!isCodeList(colos, isColoCode) || !isCodeList(continents, isContinentCode)) return "malformed";
  if (colos.length > MAX_RING_COLOS) return "malformed";
  return ringOf(colos, continents) ?? "malformed";
}

function isCodeList(value: unknown, valid: (code: string) => boolean): value is string[] {
  return Array.isArray(value) && value.every((code) => typeof code === "string" && valid(code));
}

function isColoCode(code: string): boolean {
  return COLO_CODE.test(code);
}

function isContinentCode(code: string): boolean {
  return (CONTINENTS as readonly string[]).includes(code);
}
