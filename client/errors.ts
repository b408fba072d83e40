/**
 * The SDK's one error type. Every failure a client reports through `onError` (or a rejected
 * `ready()`) carries a stable `code` from the closed set below, so callers can alert on, count
 * or ignore specific failures without parsing messages.
 */

export const CONFIG_CLIENT_ERROR_CODES = [
  /** The edge could not be reached, or the request timed out. */
  "network_error",
  /** The edge answered with a status the client does not expect (5xx, 3xx, other 4xx). */
  "http_error",
  /** 404: the key was never published, or was deleted. */
  "not_found",
  /** 401: missing, invalid or expired read token. */
  "unauthorized",
  /** 403: the read token does not cover the key's namespace. */
  "forbidden",
  /** 429: the edge asked the client to slow down (Retry-After is honoured). */
  "rate_limited",
  /** A 200/304 without the headers the contract requires (ETag, Config-Version, digest, signature). */
  "malformed_response",
  /** Content-Digest does not match the SHA-256 of the body received. */
  "digest_mismatch",
  /** Config-Signature is malformed or does not verify over the body. */
  "bad_signature",
  /** Config-Signature names a key id absent from the JWKS (even after one rate-limited refetch). */
  "unknown_kid",
  /** The signature's key is revoked by the trust root (a compromised or retired key). */
  "revoked_key",
  /** The newest trusted root has expired: nothing new is accepted until a newer root arrives. */
  "root_expired",
  /** A newer root from the edge does not chain to the trusted one (not signed by a threshold of
   *  its root keys and its own, or malformed); the trusted root stays. */
  "root_refused",
  /** The next root could not be fetched (network, status, oversized). */
  "root_unavailable",
  /** Config-Freshness is malformed, or not signed by a trusted snapshot key. */
  "bad_freshness",
  /** Config-Freshness is valid but names another key, version or digest than the answer. */
  "freshness_mismatch",
  /** Config-Freshness has expired: it proves nothing about now (not counted; see onStale). */
  "freshness_expired",
  /** The signed `key` is not the key the client asked for. */
  "key_mismatch",
  /** The signed `ver` differs from the Config-Version header. */
  "version_mismatch",
  /** The signed version is lower than the last accepted one (a replay or a stale cache). */
  "version_rollback",
  /** Same version as the last accepted one, but different bytes. */
  "version_conflict",
  /** The verified body is not JSON (cannot happen with a conforming origin). */
  "invalid_json",
  /** The caller's `validate` function refused the value. */
  "invalid_config",
  /** The JWKS could not be fetched from `jwksUrl`, is not a JWKS, or is larger than 64 KiB. */
  "jwks_unavailable",
  /** The cache file is unreadable, corrupt or does not verify; it is ignored. */
  "cache_invalid",
  /** Writing the cache file failed; the snapshot is still accepted in memory. */
  "cache_write_failed",
  /** An onChange listener threw. */
  "listener_error",
  /** `close()` was called. */
  "closed",
] as const;

export type ConfigClientErrorCode = (typeof CONFIG_CLIENT_ERROR_CODES)[number];

export class ConfigClientError extends Error {
  readonly code: ConfigClientErrorCode;
  /** HTTP status of the response that caused the error, when there was one. */
  readonly status: number | undefined;
  /** The `detail` of a problem+json answer, when the edge sent one. */
  readonly detail: string | undefined;

  constructor(
    code: ConfigClientErrorCode,
    message: string,
    options: { status?: number; detail?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ConfigClientError";
    this.code = code;
    this.status = options.status;
    this.detail = options.detail;
  }
}

/** The error for a status the client does not accept, with the problem+json `detail` if any. */
export function errorForStatus(status: number, detail: string | undefined): ConfigClientError {
  const suffix = detail ? `: ${detail}` : "";
  const options = { status, ...(detail === undefined ? {} : { detail }) };
  switch (status) {
    case 401:
      return new ConfigClientError("unauthorized", `the edge refused the read token (401)${suffix}`, options);
    case 403:
      return new ConfigClientError(
        "forbidden",
        `the read token does not cover this key (403)${suffix}`,
        options,
      );
    case 404:
      return new ConfigClientError(
        "not_found",
        `the key is not published or was deleted (404)${suffix}`,
        options,
      );
    case 429:
      return new ConfigClientError("rate_limited", `the edge is rate limiting (429)${suffix}`, options);
    default:
      return new ConfigClientError("http_error", `the edge answered ${status}${suffix}`, options);
  }
}
