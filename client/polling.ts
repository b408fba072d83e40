/**
 * The polling plumbing the config client and the bundle client (client/client.ts,
 * client/bundle-client.ts) share: their settings from the options (fetch, timeout, long-poll
 * wait, schedule policy, trust store), one capped GET with token, timeout and abort, and the
 * delay before the next poll after each outcome (client/schedule.ts has the policy itself).
 */
import { readWithin } from "../core/streams";
import { ConfigClientError, errorForStatus } from "./errors";
import { problemDetail, retryAfterMs } from "./headers";
import { DEFAULT_JWKS_REFETCH_MIN_MS } from "./jwks";
import {
  DEFAULT_INTERVAL_MS,
  DEFAULT_MAX_BACKOFF_MS,
  delayAfterFailure,
  delayAfterSuccess,
  pollAgainAtOnce,
  type SchedulePolicy,
} from "./schedule";
import { TrustStore } from "./trust";
import { type TrustAnchorOptions, trustAnchorOf } from "./trust-anchor";
import type { ConfigClientOptions } from "./types";

const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_WAIT_SECONDS = 30;
/** The edge clamps `Prefer: wait` to 1-60 s (DESIGN §8); asking for more would only mislead our timeout. */
export const MAX_WAIT_SECONDS = 60;
/** No config is larger than a KV value (DESIGN §2); a longer body is refused while it streams in. */
export const MAX_BODY_BYTES = 25 * 1024 * 1024;

/** The options both clients take the same way. */
export type PollingOptions = TrustAnchorOptions &
  Pick<
    ConfigClientOptions<unknown>,
    | "token"
    | "intervalMs"
    | "longPoll"
    | "waitSeconds"
    | "fetch"
    | "maxBackoffMs"
    | "requestTimeoutMs"
    | "jwksRefetchMinMs"
    | "random"
  >;

export interface PollingSettings {
  fetcher: typeof fetch;
  timeoutMs: number;
  /** Seconds to ask the edge to hold a conditional request, or null with long-poll off. */
  waitSeconds: number | null;
  policy: SchedulePolicy;
}

export function pollingSettings(options: PollingOptions): PollingSettings {
  const wait = options.waitSeconds ?? DEFAULT_WAIT_SECONDS;
  if (!Number.isInteger(wait) || wait < 1 || wait > MAX_WAIT_SECONDS) {
    throw new TypeError(`fleetconf: waitSeconds must be an integer from 1 to ${MAX_WAIT_SECONDS}`);
  }
  return {
    fetcher: options.fetch ?? globalThis.fetch.bind(globalThis),
    timeoutMs: options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    waitSeconds: options.longPoll === false ? null : wait,
    policy: {
      intervalMs: Math.max(1, options.intervalMs ?? DEFAULT_INTERVAL_MS),
      maxBackoffMs: options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS,
      random: options.random ?? Math.random,
    },
  };
}

/** The trust store for the options' pin (client/trust-anchor.ts), fetching as the client does. */
export function trustStoreOf(
  options: PollingOptions,
  settings: PollingSettings,
  hooks: {
    report: (error: ConfigClientError) => void;
    warn: (message: string) => void;
    rootRefreshMs: number;
  },
): TrustStore {
  return new TrustStore(trustAnchorOf(options), {
    fetch: settings.fetcher,
    timeoutMs: settings.timeoutMs,
    now: Date.now,
    refetchMinMs: options.jwksRefetchMinMs ?? DEFAULT_JWKS_REFETCH_MIN_MS,
    rootRefreshMs: hooks.rootRefreshMs,
    report: hooks.report,
    warn: hooks.warn,
  });
}

export type PollOutcome =
  | { kind: "ok"; freshness: number | null; changed: boolean }
  | { kind: "failed"; error: ConfigClientError; retryAfter: number | null };

export function failed(error: ConfigClientError, retryAfter: number | null = null): PollOutcome {
  return { kind: "failed", error, retryAfter };
}

/** An answer other than 200/304: its problem detail, and the wait its Retry-After asks for. */
export function refusedBy(res: Response, body: Uint8Array): PollOutcome {
  const detail = problemDetail(res.headers.get("Content-Type"), body);
  return failed(errorForStatus(res.status, detail), retryAfterMs(res.headers.get("Retry-After"), Date.now()));
}

/** A poll that threw: a ConfigClientError as it is, anything else (a token callback) a network error. */
export function failedBy(error: unknown): PollOutcome {
  if (error instanceof ConfigClientError) return failed(error);
  return failed(new ConfigClientError("network_error", String(error), { cause: error }));
}

/** What a request asked for and how long it took, for the long-poll decision. */
export interface Exchange {
  asked: boolean;
  appliedWaitSeconds: number | null;
  elapsedMs: number;
}

export const newExchange = (): Exchange => ({ asked: false, appliedWaitSeconds: null, elapsedMs: 0 });

/** Counts consecutive failures and turns each outcome into the delay before the next poll. */
export class PollPacer {
  private failures = 0;

  constructor(private readonly settings: PollingSettings) {}

  delayAfter(outcome: PollOutcome, exchange: Exchange): number {
    if (outcome.kind === "failed") {
      this.failures++;
      return delayAfterFailure(this.settings.policy, this.failures, outcome.retryAfter);
    }
    this.failures = 0;
    const atOnce = pollAgainAtOnce({
      enabled: this.settings.waitSeconds !== null,
      changed: outcome.changed,
      ...exchange,
    });
    return atOnce ? 0 : delayAfterSuccess(this.settings.policy, outcome.freshness);
  }
}

/**
 * One GET with the client's token and timeout (plus the long-poll `waitSeconds` it may be held),
 * aborted by `controller`; the body is read within MAX_BODY_BYTES. A request that cannot be made
 * or read is a `network_error`; `closing()` tells a timeout from an abort by close().
 */
export async function getCapped(
  settings: PollingSettings,
  token: PollingOptions["token"],
  request: { url: string; headers: Record<string, string>; waitSeconds: number | null },
  controller: AbortController,
  closing: () => boolean,
): Promise<{ res: Response; body: Uint8Array }> {
  const timeoutMs = settings.timeoutMs + (request.waitSeconds ?? 0) * 1000;
  const timeout = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const bearer = typeof token === "function" ? await token() : token;
    const headers = { ...request.headers, ...(bearer ? { Authorization: `Bearer ${bearer}` } : {}) };
    try {
      const res = await settings.fetcher(request.url, { headers, signal: controller.signal });
      return { res, body: await readCapped(res, MAX_BODY_BYTES) };
    } catch (error) {
      if (error instanceof ConfigClientError) throw error;
      const reason =
        controller.signal.aborted && !closing() ? `timed out after ${timeoutMs} ms` : String(error);
      throw new ConfigClientError("network_error", `cannot reach ${request.url}: ${reason}`, {
        cause: error,
      });
    }
  } finally {
    clearTimeout(timeout);
  }
}

/** Reads a body, giving up (and cancelling the stream) as soon as it exceeds `limit` bytes. */
async function readCapped(res: Response, limit: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get("Content-Length"));
  if (declared > limit) {
    await res.body?.cancel();
    throw new ConfigClientError("malformed_response", `the body is larger than ${limit} bytes`);
  }
  const body = await readWithin(res.body, limit);
  if (body === null)
    throw new ConfigClientError("malformed_response", `the body is larger than ${limit} bytes`);
  return body;
}
