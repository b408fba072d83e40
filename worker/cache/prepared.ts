/**
 * A snapshot made ready to serve: its exact bytes plus every header that depends only on the
 * snapshot, built once when it enters isolate memory. A hot request copies these into a
 * `Response` and adds the few per-request headers; it never hashes, signs or parses a body.
 */
import type { Snapshot, SnapshotMeta } from "../../core";

export type HeaderList = readonly (readonly [string, string])[];

export interface PreparedSnapshot {
  readonly meta: SnapshotMeta;
  readonly body: Uint8Array;
  /** ETag, Config-Version, Content-Digest, Config-Signature, Last-Modified, Content-Type, Cache-Tag. */
  readonly headers: HeaderList;
  /** What a 304 repeats of them (RFC 9110 §15.4.5): ETag, Config-Version, Last-Modified. */
  readonly notModifiedHeaders: HeaderList;
  /** Bytes this entry is charged in the memory tier. */
  readonly weight: number;
}

/** `Cache-Tag` value for everything cached about a key, so a zone purge by tag reaches it. */
export function cacheTagOf(key: string, namespace: string): string {
  return `fc:key:${key},fc:ns:${namespace}`;
}

/** Formats a millisecond time as an HTTP-date (RFC 9110 §5.6.7). */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

export function prepareSnapshot(snapshot: Snapshot, namespace: string): PreparedSnapshot {
  const { meta, body } = snapshot;
  const identity = [
    ["ETag", meta.etag],
    ["Config-Version", String(meta.version)],
    ["Last-Modified", httpDate(meta.publishedAt)],
  ] as const;
  const headers: HeaderList = Object.freeze([
    ...identity,
    ["Content-Type", "application/json"],
    ["Content-Digest", meta.digest],
    ["Config-Signature", meta.signature],
    ["Cache-Tag", cacheTagOf(meta.key, namespace)],
  ] as const);
  let headerBytes = 0;
  for (const [name, value] of headers) headerBytes += name.length + value.length;
  return Object.freeze({
    meta: Object.freeze({ ...meta }),
    body,
    headers,
    notModifiedHeaders: Object.freeze(identity),
    weight: body.length + headerBytes,
  });
}
