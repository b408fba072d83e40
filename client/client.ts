/**
 * `createConfigClient`: keeps one config key current by polling the edge with conditional GETs
 * (If-None-Match → 304, RFC 9110 §13.1.2), accepting a new snapshot only when it verifies
 * (client/verify.ts), and otherwise keeping the last good one. Each conditional GET asks the edge
 * to hold it until the key changes (`Prefer: wait`, RFC 7240; DESIGN §8); while the edge says it
 * did (`Preference-Applied`) the next request follows at once, otherwise the interval paces them.
 * Runs in Node, Workers and browsers; only the optional cache file touches Node APIs
 * (client/cache-file.ts).
 */
import { CLIENT_STATUS_HEADER, type ClientStatus, formatClientStatus } from "../core/client-status";
import type { Jwks } from "../core/jws";
import { parseKey } from "../core/keys";
import { readWithin } from "../core/streams";
import { cacheRecordOf, cacheRecordParts, readCacheFile, writeCacheFile } from "./cache-file";
import { ConfigClientError, errorForStatus } from "./errors";
import { appliedWaitSeconds, freshnessSeconds, problemDetail, retryAfterMs } from "./headers";
import { DEFAULT_JWKS_REFETCH_MIN_MS, type KeySource, pinnedKeySource, remoteKeySource } from "./jwks";
import {
  DEFAULT_INTERVAL_MS,
  DEFAULT_MAX_BACKOFF_MS,
  delayAfterFailure,
  delayAfterSuccess,
  pollAgainAtOnce,
  type SchedulePolicy,
} from "./schedule";
import type { ConfigClient, ConfigClientOptions, ConfigSnapshot } from "./types";
import { toConfigSnapshot, verifySnapshotParts } from "./verify";

const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_WAIT_SECONDS = 30;
/** The edge clamps `Prefer: wait` to 1-60 s (DESIGN §8); asking for more would only mislead our timeout. */
export const MAX_WAIT_SECONDS = 60;
/** No config is larger than a KV value (DESIGN §2); a longer body is refused while it streams in. */
export const MAX_BODY_BYTES = 25 * 1024 * 1024;

export function createConfigClient<T = unknown>(options: ConfigClientOptions<T>): ConfigClient<T> {
  return new PollingConfigClient<T>(options);
}

type Outcome =
  | { kind: "ok"; freshness: number | null; changed: boolean }
  | { kind: "failed"; error: ConfigClientError; retryAfter: number | null }
  /** A held long-poll given up so a new status goes out now (reportApplied/reportRejected). */
  | { kind: "resend" };

/** What a request asked for and how long it took, for the long-poll decision. */
interface Exchange {
  asked: boolean;
  appliedWaitSeconds: number | null;
  elapsedMs: number;
}

class PollingConfigClient<T> implements ConfigClient<T> {
  /** What the application (and verification) reported, sent as `Config-Client-Status` on each poll. */
  private status: ClientStatus = { applied: null, rejected: null, reason: null };
  private readonly url: string;
  private readonly keys: KeySource;
  private readonly policy: SchedulePolicy;
  private readonly fetcher: typeof fetch;
  private readonly clientId: string;
  private readonly timeoutMs: number;
  /** Seconds to ask the edge to hold a conditional request, or null with long-poll off. */
  private readonly waitSeconds: number | null;
  private snapshot: ConfigSnapshot<T> | undefined;
  /** Verified snapshot from the cache file, used if the edge cannot be reached or confirms it. */
  private cached: ConfigSnapshot<T> | undefined;
  private cachedJwks: Jwks | undefined;
  private failures = 0;
  private closed = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight: AbortController | undefined;
  /** The in-flight request's Config-Client-Status, and whether it is a held long-poll. */
  private sentStatus: { header: string | null; held: boolean } | null = null;
  /** Set when a held long-poll is aborted to carry a new status: not a failure. */
  private resending = false;
  private loop: Promise<void> = Promise.resolve();
  private cacheWrites: Promise<void> = Promise.resolve();
  private readonly changeListeners = new Set<
    (snapshot: ConfigSnapshot<T>, previous: ConfigSnapshot<T> | undefined) => void
  >();
  private readonly errorListeners = new Set<(error: ConfigClientError) => void>();
  private readonly waiters = new Set<{
    resolve: (s: ConfigSnapshot<T>) => void;
    reject: (e: unknown) => void;
  }>();

  constructor(private readonly options: ConfigClientOptions<T>) {
    const key = parseKey(options.key);
    if (!key.ok) throw new TypeError(`fleetconf: invalid key ${JSON.stringify(options.key)}: ${key.reason}`);
    if (!/^https?:\/\//.test(options.edge)) throw new TypeError("fleetconf: edge must be an http(s) URL");
    if ((options.jwks === undefined) === (options.jwksUrl === undefined)) {
      throw new TypeError("fleetconf: pass exactly one of jwks (pinned) or jwksUrl");
    }
    if (options.clientId !== undefined && !CLIENT_ID.test(options.clientId)) {
      throw new TypeError("fleetconf: clientId must be 1-128 characters of [A-Za-z0-9._:-]");
    }
    this.url = `${options.edge.replace(/\/+$/, "")}/v1/configs/${key.value.key}`;
    this.fetcher = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.clientId = options.clientId ?? crypto.randomUUID();
    this.timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    const wait = options.waitSeconds ?? DEFAULT_WAIT_SECONDS;
    if (!Number.isInteger(wait) || wait < 1 || wait > MAX_WAIT_SECONDS) {
      throw new TypeError(`fleetconf: waitSeconds must be an integer from 1 to ${MAX_WAIT_SECONDS}`);
    }
    this.waitSeconds = options.longPoll === false ? null : wait;
    this.policy = {
      intervalMs: Math.max(1, options.intervalMs ?? DEFAULT_INTERVAL_MS),
      maxBackoffMs: options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS,
      random: options.random ?? Math.random,
    };
    this.keys = options.jwks
      ? pinnedKeySource(options.jwks)
      : remoteKeySource({
          url: options.jwksUrl as string,
          fetch: this.fetcher,
          refetchMinMs: options.jwksRefetchMinMs ?? DEFAULT_JWKS_REFETCH_MIN_MS,
          timeoutMs: this.timeoutMs,
          now: Date.now,
        });
    this.loop = this.start();
  }

  ready(): Promise<ConfigSnapshot<T>> {
    if (this.snapshot) return Promise.resolve(this.snapshot);
    if (this.closed) return Promise.reject(new ConfigClientError("closed", "the client is closed"));
    return new Promise((resolve, reject) => this.waiters.add({ resolve, reject }));
  }

  current(): ConfigSnapshot<T> | undefined {
    return this.snapshot;
  }

  onChange(listener: (snapshot: ConfigSnapshot<T>, previous: ConfigSnapshot<T> | undefined) => void) {
    this.changeListeners.add(listener);
    return () => void this.changeListeners.delete(listener);
  }

  onError(listener: (error: ConfigClientError) => void) {
    this.errorListeners.add(listener);
    return () => void this.errorListeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.inFlight?.abort();
    await this.loop;
    await this.cacheWrites;
    const error = new ConfigClientError("closed", "the client was closed before a snapshot arrived");
    for (const waiter of this.waiters) waiter.reject(error);
    this.waiters.clear();
  }

  private async start(): Promise<void> {
    if (this.options.cacheFile) await this.loadCache(this.options.cacheFile);
    if (!this.closed) await this.pollAndSchedule();
  }

  private async pollAndSchedule(): Promise<void> {
    const exchange: Exchange = { asked: false, appliedWaitSeconds: null, elapsedMs: 0 };
    const outcome = await this.poll(exchange);
    if (this.closed) return;
    let delay: number;
    if (outcome.kind === "resend") {
      delay = 0;
    } else if (outcome.kind === "ok") {
      this.failures = 0;
      const atOnce = pollAgainAtOnce({
        enabled: this.waitSeconds !== null,
        changed: outcome.changed,
        ...exchange,
      });
      delay = atOnce ? 0 : delayAfterSuccess(this.policy, outcome.freshness);
    } else {
      this.failures++;
      // The edge is unreachable or misbehaving and nothing fresh was ever accepted: serve the
      // verified cached snapshot (marked stale) rather than nothing.
      if (!this.snapshot && this.cached) this.adopt({ ...this.cached, stale: true });
      this.report(outcome.error);
      delay = delayAfterFailure(this.policy, this.failures, outcome.retryAfter);
    }
    this.timer = setTimeout(() => {
      this.loop = this.pollAndSchedule();
    }, delay);
  }

  private async poll(exchange: Exchange): Promise<Outcome> {
    const controller = new AbortController();
    this.inFlight = controller;
    const known = this.snapshot ?? this.cached;
    // Only a conditional request can be held (DESIGN §8), so only it asks, and only once the
    // edge confirmed what the client holds: the request confirming a snapshot from the cache file
    // (at start, or served stale while the edge was down) must not wait out a hold. Its timeout
    // allows for the whole wait on top of the usual margin.
    const wait = this.snapshot && !this.snapshot.stale ? this.waitSeconds : null;
    const timeoutMs = this.timeoutMs + (wait ?? 0) * 1000;
    const timeout = setTimeout(() => controller.abort(), timeoutMs);
    const started = Date.now();
    try {
      const headers: Record<string, string> = {
        Accept: "application/json",
        "Config-Client-Id": this.clientId,
      };
      if (known) headers["If-None-Match"] = known.etag;
      // Rides on every poll (the edge records the latest with the sighting): no extra request.
      const status = formatClientStatus(this.status);
      if (status !== null) headers[CLIENT_STATUS_HEADER] = status;
      this.sentStatus = { header: status, held: wait !== null };
      if (wait !== null) headers.Prefer = `wait=${wait}`;
      exchange.asked = wait !== null;
      const token =
        typeof this.options.token === "function" ? await this.options.token() : this.options.token;
      if (token) headers.Authorization = `Bearer ${token}`;
      let res: Response;
      let body: Uint8Array;
      try {
        res = await this.fetcher(this.url, { headers, signal: controller.signal });
        body = await readCapped(res, MAX_BODY_BYTES);
      } catch (error) {
        if (this.resending && !this.closed) return { kind: "resend" };
        if (error instanceof ConfigClientError) return this.failed(error);
        const reason =
          controller.signal.aborted && !this.closed ? `timed out after ${timeoutMs} ms` : String(error);
        return this.failed(
          new ConfigClientError("network_error", `cannot reach ${this.url}: ${reason}`, { cause: error }),
        );
      }
      exchange.elapsedMs = Date.now() - started;
      if (wait !== null)
        exchange.appliedWaitSeconds = appliedWaitSeconds(res.headers.get("Preference-Applied"));
      const freshness = freshnessSeconds(res.headers.get("Cache-Control"));
      if (res.status === 304) return this.notModified(freshness);
      if (res.status === 200) return await this.received(res, body, freshness);
      const detail = problemDetail(res.headers.get("Content-Type"), body);
      return this.failed(
        errorForStatus(res.status, detail),
        retryAfterMs(res.headers.get("Retry-After"), Date.now()),
      );
    } catch (error) {
      // A token callback or a key source failing is reported like any other failed poll.
      if (error instanceof ConfigClientError) return this.failed(error);
      return this.failed(new ConfigClientError("network_error", String(error), { cause: error }));
    } finally {
      clearTimeout(timeout);
      this.inFlight = undefined;
      this.sentStatus = null;
      this.resending = false;
    }
  }

  /**
   * A status reported while a long-poll is held would otherwise wait out the hold (up to
   * `waitSeconds`); a health gate needs it within seconds. So the held request is given up and
   * the next one, carrying the status, goes at once — one replacement request per report, never
   * an extra one beside the poll. A plain poll in flight is left alone: the next one carries it.
   */
  private resendIfHeld(): void {
    const sent = this.sentStatus;
    if (!sent?.held || !this.inFlight || this.closed) return;
    if (sent.header === formatClientStatus(this.status)) return;
    this.resending = true;
    this.inFlight.abort();
  }

  reportApplied(version?: number): void {
    const applied = version ?? this.snapshot?.version;
    if (applied === undefined || !Number.isSafeInteger(applied) || applied < 1) return;
    // Applying the version it had rejected clears that rejection; an older one stays.
    this.status = {
      applied,
      rejected: this.status.rejected === applied ? null : this.status.rejected,
      reason: this.status.rejected === applied ? null : this.status.reason,
    };
    this.resendIfHeld();
  }

  reportRejected(reason: string, version?: number): void {
    const rejected = version ?? this.snapshot?.version;
    if (rejected === undefined || !Number.isSafeInteger(rejected) || rejected < 1) return;
    this.status = { ...this.status, rejected, reason };
    this.resendIfHeld();
  }

  /** A 200 whose snapshot failed verification or `validate`: reported as rejected, then failed. */
  private rejectedBy(res: Response, error: ConfigClientError): Outcome {
    const version = Number(res.headers.get("Config-Version"));
    if (Number.isSafeInteger(version) && version >= 1) this.reportRejected(`${error.code}`, version);
    return this.failed(error);
  }

  private failed(error: ConfigClientError, retryAfter: number | null = null): Outcome {
    return { kind: "failed", error, retryAfter };
  }

  private notModified(freshness: number | null): Outcome {
    if (this.snapshot) {
      if (this.snapshot.stale) this.snapshot = Object.freeze({ ...this.snapshot, stale: false });
      return { kind: "ok", freshness, changed: false };
    }
    if (this.cached) {
      // The edge confirmed the cached ETag: the cached snapshot is current.
      this.adopt({ ...this.cached, stale: false });
      return { kind: "ok", freshness, changed: false };
    }
    return this.failed(new ConfigClientError("malformed_response", "304 without a conditional request"));
  }

  private async received(res: Response, body: Uint8Array, freshness: number | null): Promise<Outcome> {
    const result = await verifySnapshotParts(
      {
        etag: res.headers.get("ETag"),
        configVersion: res.headers.get("Config-Version"),
        contentDigest: res.headers.get("Content-Digest"),
        signature: res.headers.get("Config-Signature"),
        body,
      },
      { key: this.options.key, minVersion: this.floorVersion() },
      this.keys,
    );
    if (!result.ok) return this.rejectedBy(res, result.error);
    const current = this.snapshot;
    if (current && result.snapshot.version === current.version) {
      if (!sameBytes(current.bytes, result.snapshot.body)) {
        return this.failed(
          new ConfigClientError(
            "version_conflict",
            `version ${current.version} arrived with different bytes`,
          ),
        );
      }
      if (current.stale) this.snapshot = Object.freeze({ ...current, stale: false });
      return { kind: "ok", freshness, changed: false };
    }
    const typed = toConfigSnapshot(result.snapshot, false, this.options.validate);
    if (!typed.ok) return this.rejectedBy(res, typed.error);
    this.adopt(typed.snapshot);
    this.persist(typed.snapshot);
    return { kind: "ok", freshness, changed: true };
  }

  /** Versions below this are refused: the newest of what is served and what the cache holds. */
  private floorVersion(): number {
    return Math.max(this.snapshot?.version ?? 0, this.cached?.version ?? 0);
  }

  private adopt(next: ConfigSnapshot<T>): void {
    const previous = this.snapshot;
    this.snapshot = Object.freeze(next);
    this.cached = undefined;
    for (const waiter of this.waiters) waiter.resolve(this.snapshot);
    this.waiters.clear();
    for (const listener of this.changeListeners) {
      try {
        listener(this.snapshot, previous);
      } catch (error) {
        this.report(
          new ConfigClientError("listener_error", `an onChange listener threw: ${String(error)}`, {
            cause: error,
          }),
          false,
        );
      }
    }
  }

  /** Tells error listeners; a failed poll (not a cache or listener problem) also settles ready(). */
  private report(error: ConfigClientError, settlesReady = true): void {
    if (settlesReady && !this.snapshot) {
      for (const waiter of this.waiters) waiter.reject(error);
      this.waiters.clear();
    }
    for (const listener of this.errorListeners) {
      try {
        listener(error);
      } catch {
        // An error listener that throws has nowhere left to report to.
      }
    }
  }

  private async loadCache(file: string): Promise<void> {
    try {
      const record = await readCacheFile(file);
      if (!record) return;
      if (record.key !== this.options.key)
        throw new TypeError(`it holds ${record.key}, not ${this.options.key}`);
      const result = await verifySnapshotParts(
        cacheRecordParts(record),
        { key: this.options.key, minVersion: 0 },
        this.keys,
        record.jwks,
      );
      if (!result.ok) throw result.error;
      const typed = toConfigSnapshot(result.snapshot, true, this.options.validate);
      if (!typed.ok) throw typed.error;
      this.cached = typed.snapshot;
      this.cachedJwks = record.jwks;
    } catch (error) {
      const reason = error instanceof ConfigClientError ? `${error.code}: ${error.message}` : String(error);
      this.report(
        new ConfigClientError("cache_invalid", `ignoring cache file ${file}: ${reason}`, { cause: error }),
        false,
      );
    }
  }

  /** Queues an atomic write of the cache file; writes run one at a time, newest last. */
  private persist(snapshot: ConfigSnapshot<T>): void {
    const file = this.options.cacheFile;
    if (!file) return;
    const record = cacheRecordOf(snapshot, this.keys.fetchedJwks() ?? this.cachedJwks ?? null, Date.now());
    this.cacheWrites = this.cacheWrites.then(() =>
      writeCacheFile(file, record).catch((error: unknown) => {
        this.report(
          new ConfigClientError("cache_write_failed", `cannot write ${file}: ${String(error)}`, {
            cause: error,
          }),
          false,
        );
      }),
    );
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
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
