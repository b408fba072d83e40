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
import { type FreshnessPayload, sameSha256Digest } from "../core/freshness";
import { parseKey } from "../core/keys";
import { readWithin } from "../core/streams";
import { parseRootDocument, parseRootText } from "../core/trust-root";
import { cacheRecordOf, cacheRecordParts, readCacheFile, writeCacheFile } from "./cache-file";
import { ConfigClientError, errorForStatus } from "./errors";
import { appliedWaitSeconds, freshnessSeconds, problemDetail, retryAfterMs } from "./headers";
import { DEFAULT_JWKS_REFETCH_MIN_MS, parseThumbprint } from "./jwks";
import {
  DEFAULT_INTERVAL_MS,
  DEFAULT_MAX_BACKOFF_MS,
  delayAfterFailure,
  delayAfterSuccess,
  pollAgainAtOnce,
  type SchedulePolicy,
} from "./schedule";
import { DEFAULT_ROOT_REFRESH_MS, isLoopbackUrl, type TrustAnchor, TrustStore } from "./trust";
import type { ConfigClient, ConfigClientOptions, ConfigSnapshot, FreshnessState } from "./types";
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
  private readonly trust: TrustStore;
  /** The newest valid Config-Freshness payload seen (from the edge or the cache file). */
  private freshest: FreshnessPayload | null = null;
  private freshestJws: string | null = null;
  private readonly startedAt = Date.now();
  private stale = false;
  private staleTimer: ReturnType<typeof setTimeout> | undefined;
  private persistedChain = 0;
  private readonly staleListeners = new Set<(state: FreshnessState) => void>();
  private readonly freshListeners = new Set<(state: FreshnessState) => void>();
  private readonly policy: SchedulePolicy;
  private readonly fetcher: typeof fetch;
  private readonly clientId: string;
  private readonly timeoutMs: number;
  /** Seconds to ask the edge to hold a conditional request, or null with long-poll off. */
  private readonly waitSeconds: number | null;
  private snapshot: ConfigSnapshot<T> | undefined;
  /** Verified snapshot from the cache file, used if the edge cannot be reached or confirms it. */
  private cached: ConfigSnapshot<T> | undefined;
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
    if (
      options.maxStalenessMs !== undefined &&
      (!Number.isFinite(options.maxStalenessMs) || options.maxStalenessMs < 1000)
    ) {
      throw new TypeError("fleetconf: maxStalenessMs must be at least 1000");
    }
    const warn = options.warn ?? ((message: string) => console.warn(`fleetconf: ${message}`));
    this.trust = new TrustStore(trustAnchorOf(options), {
      fetch: this.fetcher,
      timeoutMs: this.timeoutMs,
      now: Date.now,
      refetchMinMs: options.jwksRefetchMinMs ?? DEFAULT_JWKS_REFETCH_MIN_MS,
      rootRefreshMs: options.rootRefreshMs ?? DEFAULT_ROOT_REFRESH_MS,
      report: (error) => this.report(error),
      warn,
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

  onStale(listener: (state: FreshnessState) => void) {
    this.staleListeners.add(listener);
    return () => void this.staleListeners.delete(listener);
  }

  onFresh(listener: (state: FreshnessState) => void) {
    this.freshListeners.add(listener);
    return () => void this.freshListeners.delete(listener);
  }

  freshness(): FreshnessState {
    return Object.freeze({
      stale: this.stale,
      freshUntil: this.freshUntil(),
      proof: this.freshest,
      version: (this.snapshot ?? this.cached)?.version ?? null,
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.staleTimer);
    this.inFlight?.abort();
    await this.loop;
    await this.cacheWrites;
    const error = new ConfigClientError("closed", "the client was closed before a snapshot arrived");
    for (const waiter of this.waiters) waiter.reject(error);
    this.waiters.clear();
  }

  private async start(): Promise<void> {
    try {
      await this.trust.init();
    } catch (error) {
      const failure = new ConfigClientError("root_refused", String((error as Error).message ?? error), {
        cause: error,
      });
      this.closed = true;
      this.report(failure);
      return;
    }
    if (this.options.cacheFile) await this.loadCache(this.options.cacheFile);
    this.checkStaleness();
    if (!this.closed) await this.pollAndSchedule();
  }

  private async pollAndSchedule(): Promise<void> {
    const exchange: Exchange = { asked: false, appliedWaitSeconds: null, elapsedMs: 0 };
    // Rotation and revocation reach a client that only ever sees 304s too.
    await this.trust.refreshIfDue();
    if (this.closed) return;
    const outcome = await this.poll(exchange);
    if (this.closed) return;
    this.checkStaleness();
    // A root accepted during this poll (rotation) is persisted with the snapshot it verifies.
    if (this.options.cacheFile && this.trust.chain().length !== this.persistedChain && this.snapshot) {
      this.persist(this.snapshot);
    }
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
      if (res.status === 304) return await this.notModified(freshness, res.headers.get("Config-Freshness"));
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

  private async notModified(freshness: number | null, proof: string | null): Promise<Outcome> {
    const held = this.snapshot ?? this.cached;
    if (held && proof !== null) {
      const problem = await this.acceptFreshness(proof, held.version, held.digest);
      if (problem) return this.failed(problem);
    }
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
      this.trust,
    );
    if (!result.ok) return this.rejectedBy(res, result.error);
    // Freshness names this very answer or the answer is refused (mix-and-match): a proof for
    // another key, version or body must not make an old snapshot look current.
    const proof = res.headers.get("Config-Freshness");
    if (proof !== null) {
      const problem = await this.acceptFreshness(proof, result.snapshot.version, result.snapshot.digest);
      if (problem) return this.failed(problem);
    }
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

  /**
   * Versions below this are refused: the newest of what is served, what the cache holds, and what
   * the freshest proof seen names (a version proven current once is never traded for an older one).
   */
  private floorVersion(): number {
    return Math.max(this.snapshot?.version ?? 0, this.cached?.version ?? 0, this.freshest?.ver ?? 0);
  }

  /**
   * Checks a `Config-Freshness` proof against the answer it came with; a valid one becomes the
   * freshest when it is newer. Returns the reason to refuse the answer, or null.
   */
  private async acceptFreshness(
    jws: string,
    version: number,
    digest: string,
  ): Promise<ConfigClientError | null> {
    const check = await this.trust.verifyFreshness(jws);
    if (!check.ok) {
      const code =
        check.code === "revoked_key" || check.code === "root_expired" ? check.code : "bad_freshness";
      return new ConfigClientError(code, `Config-Freshness refused: ${check.reason}`);
    }
    const p = check.payload;
    if (p.key !== this.options.key || p.ver !== version || !sameSha256Digest(p.digest, digest)) {
      return new ConfigClientError(
        "freshness_mismatch",
        `Config-Freshness names ${p.key} v${p.ver}, not ${this.options.key} v${version} with this digest`,
      );
    }
    if (p.exp * 1000 <= Date.now()) {
      // Proves nothing about now; the answer itself is still a valid snapshot, so it is not
      // refused, but it does not refresh anything (onStale reports the freeze).
      this.report(
        new ConfigClientError("freshness_expired", `Config-Freshness for v${p.ver} expired`),
        false,
      );
      return null;
    }
    if (!this.freshest || p.iat > this.freshest.iat || p.ver > this.freshest.ver) {
      this.freshest = p;
      this.freshestJws = jws;
    }
    return null;
  }

  private freshUntil(): number {
    const max = this.options.maxStalenessMs;
    const proof = this.freshest;
    if (!proof) return max === undefined ? Number.POSITIVE_INFINITY : this.startedAt + max;
    // A proof issued "in the future" (clock skew) counts from now, never longer than its exp.
    const issued = Math.min(proof.iat * 1000, Date.now());
    return Math.min(proof.exp * 1000, max === undefined ? Number.POSITIVE_INFINITY : issued + max);
  }

  /** Emits onStale/onFresh on a change and re-arms the timer for the next deadline. */
  private checkStaleness(): void {
    if (this.closed) return;
    const until = this.freshUntil();
    const stale = Date.now() >= until;
    clearTimeout(this.staleTimer);
    if (!stale && Number.isFinite(until)) {
      // setTimeout holds at most 2^31-1 ms; a later deadline is simply re-checked then.
      this.staleTimer = setTimeout(
        () => this.checkStaleness(),
        Math.min(until - Date.now() + 5, 2 ** 31 - 1),
      );
    }
    if (stale === this.stale) return;
    this.stale = stale;
    const state = this.freshness();
    for (const listener of stale ? this.staleListeners : this.freshListeners) {
      try {
        listener(state);
      } catch (error) {
        this.report(
          new ConfigClientError("listener_error", `a freshness listener threw: ${String(error)}`, {
            cause: error,
          }),
          false,
        );
      }
    }
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
      // Only the pinned trust can vouch for the file: the roots it holds must chain to the pinned
      // root, and any JWKS it holds (older format) is ignored. A forged snapshot therefore fails
      // here and never becomes the version floor.
      const chainProblem = await this.trust.adoptChain(record.roots);
      if (chainProblem) throw new TypeError(chainProblem);
      this.persistedChain = this.trust.chain().length;
      const result = await verifySnapshotParts(
        cacheRecordParts(record),
        { key: this.options.key, minVersion: 0 },
        this.trust,
      );
      if (!result.ok) throw result.error;
      const typed = toConfigSnapshot(result.snapshot, true, this.options.validate);
      if (!typed.ok) throw typed.error;
      this.cached = typed.snapshot;
      if (record.freshness) {
        const problem = await this.acceptFreshness(
          record.freshness,
          typed.snapshot.version,
          typed.snapshot.digest,
        );
        if (problem) this.report(problem, false);
      }
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
    const chain = this.trust.chain();
    this.persistedChain = chain.length;
    // The proof is kept only when it names the snapshot written, so it re-verifies on load.
    const proof = this.freshest?.ver === snapshot.version ? this.freshestJws : null;
    const record = cacheRecordOf(snapshot, { roots: chain, freshness: proof }, Date.now());
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

/** Picks the trust anchor from the options (exactly one pin, or loopback trust on first use). */
export function trustAnchorOf(
  options: Pick<
    ConfigClientOptions<unknown>,
    "edge" | "rootUrl" | "jwksUrl" | "trustRoot" | "jwks" | "keyThumbprints"
  >,
): TrustAnchor {
  const edge = options.edge.replace(/\/+$/, "");
  const rootUrl = options.rootUrl ?? `${edge}/.well-known/fleetconf-root.json`;
  const jwksUrl = options.jwksUrl ?? `${edge}/.well-known/jwks.json`;
  const pins = [options.trustRoot, options.jwks, options.keyThumbprints].filter((p) => p !== undefined);
  if (pins.length > 1) throw new TypeError("fleetconf: pass only one of trustRoot, jwks or keyThumbprints");
  if (options.jwksUrl !== undefined && (options.trustRoot !== undefined || options.jwks !== undefined)) {
    throw new TypeError(
      "fleetconf: jwksUrl goes with keyThumbprints (or loopback development), not a pinned jwks or root",
    );
  }
  if (options.trustRoot !== undefined) {
    const parsed =
      typeof options.trustRoot === "string"
        ? parseRootText(options.trustRoot)
        : parseRootDocument(options.trustRoot);
    if (!parsed.ok) throw new TypeError(`fleetconf: trustRoot is not a root document: ${parsed.reason}`);
    return { kind: "root", root: parsed.value, rootUrl };
  }
  if (options.jwks !== undefined) {
    if (!Array.isArray(options.jwks.keys) || options.jwks.keys.length === 0) {
      throw new TypeError("fleetconf: the pinned jwks has no keys");
    }
    return { kind: "jwks", jwks: options.jwks };
  }
  if (options.keyThumbprints !== undefined) {
    const thumbprints = options.keyThumbprints.map(parseThumbprint);
    if (thumbprints.length === 0 || thumbprints.some((t) => t === null)) {
      throw new TypeError("fleetconf: keyThumbprints must be RFC 7638 SHA-256 thumbprints (base64url)");
    }
    return { kind: "thumbprints", thumbprints: thumbprints as string[], jwksUrl };
  }
  if (!isLoopbackUrl(options.edge) || (options.jwksUrl !== undefined && !isLoopbackUrl(options.jwksUrl))) {
    throw new TypeError(
      "fleetconf: pin what to trust (trustRoot, jwks or keyThumbprints); trust on first use is allowed only against a loopback edge",
    );
  }
  return { kind: "tofu", rootUrl, jwksUrl };
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
