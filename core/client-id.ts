/**
 * The client-id rule: what a client may send as `Config-Client-Id` and what the edge records for
 * the fleet view. 1–128 characters of `A-Z a-z 0-9 . _ : -`: enough for hostnames, pod names and
 * UUIDs, and nothing that needs escaping in a log line or a header.
 */
export const CLIENT_ID_MAX_LENGTH = 128;
const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const NOT_ALLOWED = /[^A-Za-z0-9._:-]/g;

export function isClientId(value: unknown): value is string {
  return typeof value === "string" && CLIENT_ID.test(value);
}

/** A client id made from any name (a hostname): other characters become `-`, then it is cut to size. */
export function toClientId(name: string, fallback: string): string {
  const id = name.replace(NOT_ALLOWED, "-").slice(0, CLIENT_ID_MAX_LENGTH);
  return id === "" ? fallback : id;
}
