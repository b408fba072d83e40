/**
 * Parsing of the response fields the SDK relies on. Each parser takes the raw header value and
 * returns a typed value or `null`; none throws, because a malformed header from the network is a
 * reason to reject the response, not to crash the poller.
 */

/**
 * The base64 SHA-256 from a Content-Digest field (RFC 9530 §2). The field is a Structured Field
 * Dictionary (RFC 8941 §3.2) whose members are byte sequences `:base64:`; other algorithms may be
 * listed beside `sha-256` and are ignored.
 */
export function sha256FromContentDigest(value: string | null): string | null {
  if (!value) return null;
  for (const member of value.split(",")) {
    const match = /^\s*sha-256\s*=\s*:([A-Za-z0-9+/]+={0,2}):\s*$/.exec(member);
    if (match?.[1]) return match[1];
  }
  return null;
}

/** A positive version number from `Config-Version`, or null. */
export function parseConfigVersion(value: string | null): number | null {
  if (value === null || !/^[1-9][0-9]{0,14}$/.test(value.trim())) return null;
  return Number(value.trim());
}

/**
 * Seconds the response may be reused for, from Cache-Control (RFC 9111 §5.2.2.1). `no-cache` and
 * `no-store` mean 0; an absent or malformed `max-age` means null (the server did not say).
 */
export function freshnessSeconds(cacheControl: string | null): number | null {
  if (!cacheControl) return null;
  let maxAge: number | null = null;
  for (const directive of cacheControl.split(",")) {
    const [rawName, rawValue] = directive.split("=", 2);
    const name = rawName?.trim().toLowerCase();
    if (name === "no-cache" || name === "no-store") return 0;
    if (name === "max-age" && rawValue !== undefined) {
      const text = rawValue.trim().replace(/^"(.*)"$/, "$1");
      if (/^[0-9]{1,10}$/.test(text)) maxAge = Number(text);
    }
  }
  return maxAge;
}

/**
 * Milliseconds to wait from Retry-After (RFC 9110 §10.2.3): either delay-seconds or an HTTP-date.
 * A date in the past means 0; anything unparseable means null.
 */
export function retryAfterMs(value: string | null, nowMs: number): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^[0-9]{1,10}$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - nowMs);
}

/** The `detail` of an RFC 9457 problem+json body, if the body is one. */
export function problemDetail(contentType: string | null, body: Uint8Array): string | undefined {
  if (!contentType?.toLowerCase().startsWith("application/problem+json")) return undefined;
  try {
    const problem: unknown = JSON.parse(new TextDecoder().decode(body));
    if (typeof problem === "object" && problem !== null && "detail" in problem) {
      const detail = (problem as { detail: unknown }).detail;
      return typeof detail === "string" ? detail : undefined;
    }
  } catch {
    // Not JSON after all: no detail to show.
  }
  return undefined;
}

/**
 * The wait the server honoured, from `Preference-Applied` (RFC 7240 §3): a list of preferences,
 * e.g. `wait=30` or `respond-async, wait=30`. Null when the field is absent or names no wait:
 * the server (or a proxy in front of it) did not hold the request.
 */
export function appliedWaitSeconds(value: string | null): number | null {
  if (value === null) return null;
  for (const preference of value.split(",")) {
    const match = /^\s*wait\s*=\s*"?([0-9]{1,5})"?\s*(?:;.*)?$/i.exec(preference);
    if (match?.[1]) return Number(match[1]);
  }
  return null;
}
