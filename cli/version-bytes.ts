/**
 * One version's exact bytes from the admin API. `GET /v1/configs/{key}/-/versions/{n}` answers a
 * JSON record whose last member, `content`, is the stored bytes spliced in unchanged
 * (origin/routes/versions.ts), so they are cut out of the answer rather than parsed and
 * re-serialised (which would change numbers such as `1.0` and any formatting), and then checked
 * against the record's own digest: a mismatch is an error, never a silent re-encoding.
 */
import { sha256 } from "../core/encoding";
import { contentDigestOf } from "../core/snapshot";
import { VersionDocument } from "../origin/contract";
import { type AdminApi, type Answer, documentOf } from "./admin-api";
import { CliError } from "./errors";

export interface ExactVersion {
  key: string;
  version: number;
  /** The version's bytes as published. */
  bytes: Uint8Array;
  /** `sha-256=:…:` (RFC 9530), as the edge's Content-Digest says. */
  digest: string;
  etag: string;
  /** Whether it is the key's current version. */
  current: boolean;
}

const CONTENT_MEMBER = new TextEncoder().encode(',"content":');

export async function digestOf(bytes: Uint8Array): Promise<string> {
  return contentDigestOf(await sha256(bytes));
}

/**
 * The bytes after the record's first `,"content":` up to its closing brace. The first is the
 * splice: before it only JSON.stringify output of the other members, where a quote inside a
 * string is always escaped, so the sequence cannot occur earlier.
 */
export function splicedContent(record: Uint8Array): Uint8Array | null {
  const at = Buffer.from(record.buffer, record.byteOffset, record.byteLength).indexOf(CONTENT_MEMBER);
  if (at < 0 || record[record.length - 1] !== 0x7d) return null;
  return record.subarray(at + CONTENT_MEMBER.length, record.length - 1);
}

export async function readVersionBytes(api: AdminApi, key: string, version: number): Promise<ExactVersion> {
  const answer: Answer = await api.call("GET", `/v1/configs/${key}/-/versions/${version}`);
  const record = documentOf(VersionDocument, answer);
  const bytes = splicedContent(answer.bytes);
  if (bytes === null || (await digestOf(bytes)) !== record.digest) {
    throw new CliError(`cannot take ${key}@${version}'s exact bytes from the origin's answer`, {
      code: "bad_response",
      detail: "the content cut out of the version record does not have the record's digest",
    });
  }
  return {
    key,
    version: record.version,
    bytes,
    digest: record.digest,
    etag: record.etag,
    current: record.current,
  };
}
