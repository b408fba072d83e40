/**
 * Config key rules (DESIGN §2): 2–4 segments joined by "/", each `[a-z0-9][a-z0-9._-]{0,63}`,
 * never "." or "..". The first segment is the namespace.
 */
import { FleetconfError } from "./errors";

export interface ConfigKey {
  /** The whole key, e.g. `payments/prod/flags`. */
  readonly key: string;
  /** Its first segment: the unit of authorisation and of Durable Object sharding. */
  readonly namespace: string;
  readonly segments: readonly string[];
}

const SEGMENT = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const MIN_SEGMENTS = 2;
export const MAX_SEGMENTS = 4;

export type KeyParseResult = { ok: true; value: ConfigKey } | { ok: false; reason: string };

export function isValidSegment(segment: string): boolean {
  return SEGMENT.test(segment) && segment !== "." && segment !== "..";
}

export function parseKey(raw: string): KeyParseResult {
  if (raw.length === 0) return { ok: false, reason: "the key is empty" };
  const segments = raw.split("/");
  if (segments.length < MIN_SEGMENTS || segments.length > MAX_SEGMENTS) {
    return {
      ok: false,
      reason: `a key has ${MIN_SEGMENTS} to ${MAX_SEGMENTS} segments, got ${segments.length}`,
    };
  }
  for (const segment of segments) {
    if (!isValidSegment(segment)) {
      return {
        ok: false,
        reason: `segment ${JSON.stringify(segment.slice(0, 80))} must match [a-z0-9][a-z0-9._-]{0,63}`,
      };
    }
  }
  const namespace = segments[0] as string;
  return { ok: true, value: { key: raw, namespace, segments } };
}

/** Parses a key or throws `invalid_key` (400). */
export function requireKey(raw: string): ConfigKey {
  const result = parseKey(raw);
  if (!result.ok) throw new FleetconfError("invalid_key", `Invalid key: ${result.reason}.`);
  return result.value;
}

export function parseNamespace(raw: string): string {
  if (!isValidSegment(raw)) {
    throw new FleetconfError("invalid_key", "A namespace must match [a-z0-9][a-z0-9._-]{0,63}.");
  }
  return raw;
}

/** Parses a positive version integer from a path or query string, or throws `invalid_version`. */
export function parseVersion(raw: string | undefined | null): number {
  if (raw === undefined || raw === null || !/^[1-9][0-9]{0,14}$/.test(raw)) {
    throw new FleetconfError("invalid_version", "A version is a positive integer.");
  }
  return Number(raw);
}
