/**
 * Parses the records the origin writes to KV (core/snapshot.ts, docs/kv-layout.md) into typed
 * values, once, where they enter the edge. A record that does not parse is `corrupt-record`: the
 * tiered store treats it like a failed read and keeps serving the last good entry.
 */
import {
  DEFAULT_NAMESPACE_SETTINGS,
  decodeSnapshot,
  type HeadRecord,
  MAX_FRESHNESS_CHARS,
  type NamespaceSettings,
  type RolloutHead,
  ringFrom,
  type Snapshot,
} from "../../core";
import { UpstreamError } from "./kv-reader";

type Fields = Record<string, unknown>;

function corrupt(what: string): UpstreamError {
  return new UpstreamError("corrupt-record", `corrupt ${what} record in KV`);
}

function objectOf(text: string, what: string): Fields {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw corrupt(what);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw corrupt(what);
  return value as Fields;
}

const isVersion = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 1;
const isTime = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isSeconds = (v: unknown): v is number =>
  Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= 31536000;

export function parseHeadRecord(text: string, key: string): HeadRecord {
  const h = objectOf(text, "head");
  if (
    h.v !== 1 ||
    h.key !== key ||
    !isVersion(h.version) ||
    typeof h.etag !== "string" ||
    !isTime(h.publishedAt) ||
    typeof h.deleted !== "boolean"
  ) {
    throw corrupt("head");
  }
  const rollout = parseRollout(h.rollout);
  // A candidate is always newer than the stable version it is rolled out over.
  if (rollout !== null && rollout.candidate.version <= h.version) throw corrupt("head rollout");
  // Round-3 fields, absent from older heads: the delete generation's floor, redacted versions
  // and the Config-Freshness proofs by version (strings the edge passes on, never parses).
  const floor = h.floor ?? 1;
  const redacted = h.redacted ?? [];
  const freshness = h.freshness ?? {};
  if (
    !isVersion(floor) ||
    floor > h.version ||
    !Array.isArray(redacted) ||
    !redacted.every(isVersion) ||
    typeof freshness !== "object" ||
    freshness === null ||
    Array.isArray(freshness) ||
    !Object.values(freshness).every((p) => typeof p === "string" && p.length <= MAX_FRESHNESS_CHARS)
  ) {
    throw corrupt("head");
  }
  return {
    v: 1,
    key,
    version: h.version,
    etag: h.etag,
    publishedAt: h.publishedAt,
    deleted: h.deleted,
    rollout,
    floor,
    redacted,
    freshness: freshness as Record<string, string>,
  };
}

const isPercent = (v: unknown): v is number => typeof v === "number" && v >= 0 && v <= 100;

function parseRollout(value: unknown): RolloutHead | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "object") throw corrupt("head rollout");
  const r = value as Fields;
  const candidate = r.candidate as Fields | null | undefined;
  if (
    typeof candidate !== "object" ||
    candidate === null ||
    !isVersion(candidate.version) ||
    typeof candidate.etag !== "string" ||
    !isTime(candidate.publishedAt) ||
    (r.mode !== "fixed" && r.mode !== "linear") ||
    !isPercent(r.percent) ||
    !isPercent(r.start) ||
    !isPercent(r.step) ||
    !isTime(r.everySeconds) ||
    !isTime(r.startedAt) ||
    // shareAt divides by everySeconds: a linear rollout needs a period and a step.
    (r.mode === "linear" && (r.everySeconds < 1 || r.step <= 0))
  ) {
    throw corrupt("head rollout");
  }
  // Rings came after rollouts: a head without `ring` (or with null) is a rollout everywhere. A
  // malformed ring is corrupt, never "everywhere": that would widen a one-location rollout.
  const ring = ringFrom(r.ring);
  if (ring === "malformed") throw corrupt("head rollout");
  return {
    candidate: { version: candidate.version, etag: candidate.etag, publishedAt: candidate.publishedAt },
    mode: r.mode,
    percent: r.percent,
    start: r.start,
    step: r.step,
    everySeconds: r.everySeconds,
    startedAt: r.startedAt,
    ...(ring === null ? {} : { ring }),
  };
}

/** An `ns/` record; missing fields take the defaults so a partial record still reads. */
export function parseNamespaceSettings(text: string): NamespaceSettings {
  const s = objectOf(text, "namespace");
  const d = DEFAULT_NAMESPACE_SETTINGS;
  const visibility = s.visibility ?? d.visibility;
  const maxAge = s.maxAge ?? d.maxAge;
  const staleWhileRevalidate = s.staleWhileRevalidate ?? d.staleWhileRevalidate;
  const staleIfError = s.staleIfError ?? d.staleIfError;
  if (
    (visibility !== "public" && visibility !== "private") ||
    !isSeconds(maxAge) ||
    !isSeconds(staleWhileRevalidate) ||
    !isSeconds(staleIfError)
  ) {
    throw corrupt("namespace");
  }
  return { visibility, maxAge, staleWhileRevalidate, staleIfError };
}

/** A `snap/` record, checked to be the (key, version) it was read for. */
export function parseSnapshotRecord(bytes: ArrayBuffer | Uint8Array, key: string, version: number): Snapshot {
  let snapshot: Snapshot;
  try {
    snapshot = decodeSnapshot(bytes);
  } catch {
    throw corrupt("snapshot");
  }
  const m = snapshot.meta as unknown as Fields;
  if (
    m.key !== key ||
    m.version !== version ||
    typeof m.etag !== "string" ||
    typeof m.digest !== "string" ||
    typeof m.signature !== "string" ||
    !isTime(m.publishedAt)
  ) {
    throw corrupt("snapshot");
  }
  return snapshot;
}
