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
  /** ETag, Config-Version, Last-Modified, Content-Type, Content-Digest, Config-Signature. */
  readonly headers: HeaderList;
  /**
   * What a 304 repeats of them: ETag and Config-Version (DESIGN §3). Not Last-Modified: with an
   * ETag present RFC 9110 §15.4.5 says a 304 SHOULD NOT carry more metadata, and every response
   * header costs the hot path measurably (BENCHMARKS.md §1).
   */
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

export function prepareSnapshot(snapshot: Snapshot): PreparedSnapshot {
  const { meta, body } = snapshot;
  const identity = [
    ["ETag", meta.etag],
    ["Config-Version", String(meta.version)],
  ] as const;
  // No Cache-Tag here: it belongs on the Cache API entries (edge-cache.ts), which a zone purge by
  // tag reaches; on a response to a client it purges nothing and Cloudflare strips it anyway.
  const headers: HeaderList = Object.freeze([
    ...identity,
    ["Last-Modified", httpDate(meta.publishedAt)],
    ["Content-Type", "application/json"],
    ["Content-Digest", meta.digest],
    ["Config-Signature", meta.signature],
  ] as const);
  let headerBytes = 0;
  for (const [name, value] of headers) headerBytes += name.length + value.length;
  return Object.freeze({
    meta: Object.freeze({ ...meta }),
    // The parsed body is a view into the whole KV record; a Response built from a view that does
    // not span its buffer costs workerd far more per request than one over an exact buffer.
    body: body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? body : body.slice(),
    headers,
    notModifiedHeaders: Object.freeze(identity),
    weight: body.length + headerBytes,
  });
}
