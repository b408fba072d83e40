/**
 * The acceptance rule for a snapshot, whether it comes from the edge or from a cache file. A
 * snapshot is accepted only when, in this order:
 * 1. ETag, Config-Version, Content-Digest and Config-Signature are present and well-formed;
 * 2. the SHA-256 of the body equals Content-Digest (RFC 9530) — catches corruption cheaply;
 * 3. Config-Signature verifies over the exact body (detached JWS, RFC 7797 §3) with a snapshot key
 *    the client trusts (client/trust.ts: pinned, never taken from the answer or the cache file),
 *    not revoked by the trust root — catches tampering, since anyone can recompute a digest;
 * 4. the signed `key` is the key requested — stops a valid snapshot of another key being served;
 * 5. the signed `ver` equals Config-Version and is not below the last accepted version — stops a
 *    replay of an older, validly signed version;
 * 6. the body parses as JSON (and passes the caller's validator, checked by the caller).
 */
import { fromBase64, sha256, toBase64 } from "../core/encoding";
import type { SignatureCheck } from "../core/jws";
import { ConfigClientError } from "./errors";
import { parseConfigVersion, sha256FromContentDigest } from "./headers";
import type { RefusedByRoot } from "./trust";
import type { ConfigSnapshot } from "./types";

export interface SnapshotParts {
  etag: string | null;
  configVersion: string | null;
  contentDigest: string | null;
  signature: string | null;
  body: Uint8Array;
}

/** The parts of an edge answer that verification reads: its four headers and the body. */
export function snapshotPartsOf(res: Response, body: Uint8Array): SnapshotParts {
  return {
    etag: res.headers.get("ETag"),
    configVersion: res.headers.get("Config-Version"),
    contentDigest: res.headers.get("Content-Digest"),
    signature: res.headers.get("Config-Signature"),
    body,
  };
}

export interface VerifiedSnapshot {
  key: string;
  version: number;
  etag: string;
  digest: string;
  signature: string;
  kid: string;
  /** Publish time in milliseconds, from the signed `iat`. */
  publishedAt: number;
  body: Uint8Array;
  value: unknown;
}

/** Whoever decides which keys verify (client/trust.ts's TrustStore). */
export interface SnapshotVerifier {
  verifySnapshot(signature: string, body: Uint8Array): Promise<SignatureCheck | RefusedByRoot>;
}

export type VerifyResult = { ok: true; snapshot: VerifiedSnapshot } | { ok: false; error: ConfigClientError };

const fail = (code: ConstructorParameters<typeof ConfigClientError>[0], message: string): VerifyResult => ({
  ok: false,
  error: new ConfigClientError(code, message),
});

export async function verifySnapshotParts(
  parts: SnapshotParts,
  expected: { key: string; minVersion: number },
  keys: SnapshotVerifier,
): Promise<VerifyResult> {
  const { etag, contentDigest, signature, body } = parts;
  const version = parseConfigVersion(parts.configVersion);
  if (!etag) return fail("malformed_response", "the response has no ETag");
  if (version === null) return fail("malformed_response", "the response has no valid Config-Version");
  if (!signature) return fail("malformed_response", "the response has no Config-Signature");
  const expectedHash = sha256FromContentDigest(contentDigest);
  if (!expectedHash) return fail("malformed_response", "the response has no sha-256 Content-Digest");

  // Compare decoded bytes, not strings: base64 padding and alphabet quirks must not matter.
  const actualHash = await sha256(body);
  let declared: Uint8Array;
  try {
    declared = fromBase64(expectedHash);
  } catch {
    return fail("malformed_response", "Content-Digest is not base64");
  }
  if (declared.length !== actualHash.length || !declared.every((byte, i) => byte === actualHash[i])) {
    return fail("digest_mismatch", "Content-Digest does not match the SHA-256 of the body");
  }

  const check = await keys.verifySnapshot(signature, body);
  if (!check.ok) {
    const code =
      check.code === "unknown_kid" || check.code === "revoked_key" || check.code === "root_expired"
        ? check.code
        : "bad_signature";
    return fail(code, check.reason);
  }
  const header = check.header;
  if (header.key !== expected.key) {
    return fail("key_mismatch", `the snapshot is signed for ${header.key}, not ${expected.key}`);
  }
  if (header.ver !== version) {
    return fail("version_mismatch", `signed version ${header.ver} differs from Config-Version ${version}`);
  }
  if (header.ver < expected.minVersion) {
    return fail(
      "version_rollback",
      `version ${header.ver} is older than the last accepted version ${expected.minVersion}`,
    );
  }

  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body));
  } catch {
    return fail("invalid_json", "the verified body is not JSON");
  }
  return {
    ok: true,
    snapshot: {
      key: header.key,
      version: header.ver,
      etag,
      digest: `sha-256=:${toBase64(actualHash)}:`,
      signature,
      kid: header.kid,
      publishedAt: header.iat * 1000,
      body,
      value,
    },
  };
}

/** The caller-facing snapshot: frozen, with the value passed through the caller's `validate`. */
export function toConfigSnapshot<T>(
  verified: VerifiedSnapshot,
  stale: boolean,
  validate: ((value: unknown) => T) | undefined,
): { ok: true; snapshot: ConfigSnapshot<T> } | { ok: false; error: ConfigClientError } {
  let value: T;
  try {
    value = validate ? validate(verified.value) : (verified.value as T);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const message = `validate refused version ${verified.version}: ${reason}`;
    return { ok: false, error: new ConfigClientError("invalid_config", message, { cause: error }) };
  }
  return {
    ok: true,
    snapshot: Object.freeze({
      key: verified.key,
      version: verified.version,
      etag: verified.etag,
      value,
      bytes: verified.body,
      publishedAt: verified.publishedAt,
      stale,
      digest: verified.digest,
      signature: verified.signature,
      kid: verified.kid,
    }),
  };
}
