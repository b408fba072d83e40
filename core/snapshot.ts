/**
 * Snapshots and heads: the immutable records the origin writes to KV and the edge serves.
 * Everything a response needs (bytes, ETag, digest, signature) is computed here once, at publish.
 * The KV layout is documented in docs/kv-layout.md.
 */

import { type ApprovalMode, DEFAULT_APPROVAL_TTL } from "./approval";
import { concatBytes, sha256, toBase64, toBase64Url, utf8Bytes } from "./encoding";
import { signSnapshot } from "./jws";
import type { RolloutHead } from "./rollout";

export interface SnapshotMeta {
  key: string;
  version: number;
  /** Strong entity tag, quoted: `"<version>-<22 base64url chars>"`. */
  etag: string;
  /** RFC 9530 Content-Digest field value: `sha-256=:<base64>:`. */
  digest: string;
  /** Detached JWS over the body (core/jws.ts). */
  signature: string;
  /** Publish time, milliseconds since the epoch. */
  publishedAt: number;
  size: number;
}

export interface Snapshot {
  meta: SnapshotMeta;
  body: Uint8Array;
}

/** The current state of a key, as the edge reads it. Small and short-lived in caches. */
export interface HeadRecord {
  v: 1;
  key: string;
  /** The version served to everyone (the stable version during a rollout). */
  version: number;
  etag: string;
  publishedAt: number;
  deleted: boolean;
  rollout: RolloutHead | null;
  /**
   * The delete generation's first version: versions below it were published before the key's
   * last delete and are never served again, even if the key is re-created (DESIGN §8). 1 for a
   * key never deleted; absent in heads written before round 3 (read as 1).
   */
  floor?: number;
  /** Versions whose bytes were redacted: the edge answers 410 Gone for `?version=N` of these. */
  redacted?: number[];
  /**
   * `Config-Freshness` proofs (core/freshness.ts) by version, for the live version and a rollout
   * candidate: signed by the origin (the edge has no private key) and re-signed by its alarm.
   */
  freshness?: Record<string, string>;
}

export interface NamespaceSettings {
  visibility: "public" | "private";
  maxAge: number;
  staleWhileRevalidate: number;
  staleIfError: number;
  /**
   * Seconds a `Config-Freshness` proof is valid (`exp − iat`); re-signed at half of it. Only the
   * origin reads it (the edge never signs); absent means DEFAULT_FRESHNESS_TTL.
   */
  freshnessTtl?: number;
  /**
   * Four-eyes (core/approval.ts): `required` turns the namespace's writes into change requests.
   * Only the origin reads it; absent means "none".
   */
  approval?: ApprovalMode;
  /** Seconds a change request stays approvable; absent means DEFAULT_APPROVAL_TTL. */
  approvalTtl?: number;
}

/** One day, as TUF's reference timestamp role; a client's maxStaleness is usually shorter. */
export const DEFAULT_FRESHNESS_TTL = 86400;
/** Re-signing runs at half-life, so a ttl below a minute would have the alarm sign constantly. */
export const MIN_FRESHNESS_TTL = 60;
/** A week: a proof that outlives that no longer tells a client anything about freezes. */
export const MAX_FRESHNESS_TTL = 7 * 86400;

export const DEFAULT_NAMESPACE_SETTINGS: NamespaceSettings = {
  visibility: "private",
  maxAge: 5,
  staleWhileRevalidate: 30,
  staleIfError: 86400,
  freshnessTtl: DEFAULT_FRESHNESS_TTL,
  approval: "none",
  approvalTtl: DEFAULT_APPROVAL_TTL,
};

export const kvKeys = {
  head: (key: string) => `head/${key}`,
  snapshot: (key: string, version: number) => `snap/${key}/${version}`,
  namespace: (namespace: string) => `ns/${namespace}`,
  /** The signed trust root (core/trust-root.ts), one immutable record per version, and the newest. */
  root: (version: number) => `root/${version}`,
  rootLatest: "root/latest",
} as const;

export function contentDigestOf(hash: Uint8Array): string {
  return `sha-256=:${toBase64(hash)}:`;
}

/** An ETag unique per (key, version) and content: a hash of all three, prefixed by the version. */
export async function computeEtag(key: string, version: number, bodyHash: Uint8Array): Promise<string> {
  const tag = await sha256(concatBytes(utf8Bytes(`${key}\0${version}\0`), bodyHash));
  return `"${version}-${toBase64Url(tag.subarray(0, 16))}"`;
}

export async function buildSnapshot(params: {
  key: string;
  version: number;
  body: Uint8Array;
  publishedAt: number;
  signingKey: CryptoKey;
  kid: string;
}): Promise<Snapshot> {
  const { key, version, body, publishedAt } = params;
  const hash = await sha256(body);
  const etag = await computeEtag(key, version, hash);
  const signature = await signSnapshot(
    params.signingKey,
    { kid: params.kid, key, ver: version, iat: Math.floor(publishedAt / 1000) },
    body,
  );
  return {
    meta: { key, version, etag, digest: contentDigestOf(hash), signature, publishedAt, size: body.length },
    body,
  };
}

// A snapshot is one KV value: a magic line, the metadata as one JSON line, then the exact body.
// KV metadata is capped at 1024 bytes, too small for a signature over a long key, hence the framing.
const MAGIC = "FCS1\n";
const MAGIC_BYTES = utf8Bytes(MAGIC);

export function encodeSnapshot(snapshot: Snapshot): Uint8Array {
  return concatBytes(MAGIC_BYTES, utf8Bytes(`${JSON.stringify(snapshot.meta)}\n`), snapshot.body);
}

export function decodeSnapshot(value: ArrayBuffer | Uint8Array): Snapshot {
  const bytes = value instanceof Uint8Array ? value : new Uint8Array(value);
  for (let i = 0; i < MAGIC_BYTES.length; i++) {
    if (bytes[i] !== MAGIC_BYTES[i]) throw new Error("not a fleetconf snapshot record");
  }
  const newline = bytes.indexOf(0x0a, MAGIC_BYTES.length);
  if (newline < 0) throw new Error("truncated snapshot record");
  const meta = JSON.parse(
    new TextDecoder().decode(bytes.subarray(MAGIC_BYTES.length, newline)),
  ) as SnapshotMeta;
  const body = bytes.subarray(newline + 1);
  if (body.length !== meta.size) throw new Error("snapshot record size mismatch");
  return { meta, body };
}
