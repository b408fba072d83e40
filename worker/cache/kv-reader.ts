/**
 * The edge's only door to KV. Every read is bounded by a timeout so a slow KV turns into an
 * `UpstreamError` the tiered store can answer with stale-if-error, instead of a hung request.
 * Tests wrap the real binding (never a fake KV) to make reads fail, hang or count.
 */

import { cacheStatus, FleetconfError } from "../../core";

export const DEFAULT_KV_READ_TIMEOUT_MS = 2000;
/** Seconds a client should wait after a 503 before retrying. */
export const RETRY_AFTER_SECONDS = 5;

export interface KvReader {
  /** A value as text, or null when the key is absent. */
  text(name: string): Promise<string | null>;
  /** A value as bytes, or null when the key is absent. */
  bytes(name: string): Promise<ArrayBuffer | null>;
}

/** Why an upstream read could not be used; shown in Cache-Status `detail` and in logs. */
export type UpstreamReason =
  | "kv-timeout"
  | "kv-error"
  | "origin-timeout"
  | "origin-error"
  | "snapshot-missing"
  | "corrupt-record";

export class UpstreamError extends Error {
  readonly reason: UpstreamReason;

  constructor(reason: UpstreamReason, message: string) {
    super(message);
    this.name = "UpstreamError";
    this.reason = reason;
  }
}

export function upstreamReasonOf(error: unknown): UpstreamReason {
  return error instanceof UpstreamError ? error.reason : "kv-error";
}

/** The two reads the edge makes of a KV binding (so tests can wrap the real one). */
export interface KvGetter {
  get(name: string, type: "text"): Promise<string | null>;
  get(name: string, type: "arrayBuffer"): Promise<ArrayBuffer | null>;
}

/** The 503 for a read nothing cached can answer, saying which failure caused it. */
export function upstreamUnavailable(reason: UpstreamReason): FleetconfError {
  return new FleetconfError(
    "upstream_unavailable",
    `The config store is unavailable from this location (${reason}) and nothing usable is cached; retry shortly.`,
    {
      headers: {
        "Retry-After": String(RETRY_AFTER_SECONDS),
        "Cache-Status": cacheStatus("kv", { error: reason }),
      },
      extensions: { reason },
    },
  );
}

/** Reads from a KV binding, turning failures and slow reads into `UpstreamError`. */
export function timedKvReader(kv: KvGetter, timeoutMs: number): KvReader {
  return {
    text: (name) => withTimeout(kv.get(name, "text"), timeoutMs, name),
    bytes: (name) => withTimeout(kv.get(name, "arrayBuffer"), timeoutMs, name),
  };
}

/** Races a KV read against a timer; any failure becomes an `UpstreamError`. */
export async function withTimeout<T>(read: Promise<T>, timeoutMs: number, name: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new UpstreamError("kv-timeout", `read of ${name} took over ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([read, timeout]);
  } catch (error) {
    if (error instanceof UpstreamError) throw error;
    throw new UpstreamError("kv-error", `read of ${name} failed: ${String(error)}`);
  } finally {
    clearTimeout(timer);
  }
}

/** Parses `KV_READ_TIMEOUT_MS`: 1..60000, else the default. */
export function kvTimeoutFrom(raw: string | undefined): number {
  const value = raw === undefined ? Number.NaN : Number(raw.trim());
  return Number.isInteger(value) && value >= 1 && value <= 60_000 ? value : DEFAULT_KV_READ_TIMEOUT_MS;
}
