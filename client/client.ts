/**
 * `createConfigClient`: keeps one config key current by polling the edge with conditional GETs
 * (If-None-Match → 304, RFC 9110 §13.1.2), accepting a new snapshot only when it verifies
 * (client/verify.ts), and otherwise keeping the last good one. Each conditional GET asks the edge
 * to hold it until the key changes (`Prefer: wait`, RFC 7240; DESIGN §8); while the edge says it
 * did (`Preference-Applied`) the next request follows at once, otherwise the interval paces them.
 * Runs in Node, Workers and browsers; only the optional cache file touches Node APIs
 * (client/cache-file.ts). Freeze detection is client/freshness-watch.ts's; the polling plumbing
 * and listeners are shared with the bundle client (client/polling.ts, client/listeners.ts).
 */
import { CLIENT_STATUS_HEADER, type ClientStatus, formatClientStatus } from "../core/client-status";
import { parseKey } from "../core/keys";
import { ConfigClientError } from "./errors";
import { FreshnessWatch } from "./freshness-watch";
import { appliedWaitSeconds, freshnessSeconds } from "./headers";
import { SnapshotListeners, subscribe } from "./listeners";
import {
  type Exchange,
  failed,
  failedBy,
  getCapped,
  newExchange,
  type PollingSettings,
  type PollOutcome,
  PollPacer,
  pollingSettings,
  refusedBy,
  trustStoreOf,
} from "./polling";
import { SnapshotCache } from "./snapshot-cache";
import { DEFAULT_ROOT_REFRESH_MS, type TrustStore } from "./trust";
import type { ConfigClient, ConfigClientOptions, ConfigSnapshot, FreshnessState } from "./types";
import { snapshotPartsOf, toConfigSnapshot, verifySnapshotParts } from "./verify";

export { DEFAULT_WAIT_SECONDS, MAX_BODY_BYTES, MAX_WAIT_SECONDS } from "./polling";

const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function createConfigClient<T = unknown>(options: ConfigClientOptions<T>): ConfigClient<T> {
  return new PollingConfigClient<T>(options);
}

type Outcome =
  | PollOutcome
  /** A held long-poll given up so a new status goes out now (reportApplied/reportRejected). */
  | { kind: "resend" };

class PollingConfigClient<T> implements ConfigClient<T> {
  /** What the application (and verification) reported, sent as `Config-Client-Status` on each poll. */
  private status: ClientStatus = { applied: null, rejected: null, reason: null };
  private readonly url: string;
  private readonly trust: TrustStore;
  private readonly watch: FreshnessWatch;
  private readonly settings: PollingSettings;
  private readonly pacer: PollPacer;
  private readonly clientId: string;
  private snapshot: ConfigSnapshot<T> | undefined;
  /** Verified snapshot from the cache file, used if the edge cannot be reached or confirms it. */
  private cached: ConfigSnapshot<T> | undefined;
  private closed = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight: AbortController | undefined;
  /** The in-flight request's Config-Client-Status, and whether it is a held long-poll. */
  private sentStatus: { header: string | null; held: boolean } | null = null;
  /** Set when a held long-poll is aborted to carry a new status: not a failure. */
  private resending = false;
  private loop: Promise<void> = Promise.resolve();
  /** The cache file (`cacheFile`), or null without one. */
  private readonly cache: SnapshotCache<T> | null;
  private readonly listeners = new SnapshotListeners<ConfigSnapshot<T>>();

  constructor(private readonly options: ConfigClientOptions<T>) {
    const key = parseKey(options.key);
    if (!key.ok) throw new TypeError(`fleetconf: invalid key ${JSON.stringify(options.key)}: ${key.reason}`);
    if (!/^https?:\/\//.test(options.edge)) throw new TypeError("fleetconf: edge must be an http(s) URL");
    if (options.clientId !== undefined && !CLIENT_ID.test(options.clientId)) {
      throw new TypeError("fleetconf: clientId must be 1-128 characters of [A-Za-z0-9._:-]");
    }
    this.url = `${options.edge.replace(/\/+$/, "")}/v1/configs/${key.value.key}`;
    this.clientId = options.clientId ?? crypto.randomUUID();
    this.settings = pollingSettings(options);
    this.pacer = new PollPacer(this.settings);
    if (
      options.maxStalenessMs !== undefined &&
      (!Number.isFinite(options.maxStalenessMs) || options.maxStalenessMs < 1000)
    ) {
      throw new TypeError("fleetconf: maxStalenessMs must be at least 1000");
    }
    this.trust = trustStoreOf(options, this.settings, {
      report: (error) => this.report(error),
      warn: options.warn ?? ((message: string) => console.warn(`fleetconf: ${message}`)),
      rootRefreshMs: options.rootRefreshMs ?? DEFAULT_ROOT_REFRESH_MS,
    });
    this.watch = new FreshnessWatch({
      key: options.key,
      maxStalenessMs: options.maxStalenessMs,
      trust: this.trust,
      version: () => (this.snapshot ?? this.cached)?.version ?? null,
      closed: () => this.closed,
      report: (error) => this.report(error, false),
      notify: (listeners, call) => this.listeners.notify(listeners, "a freshness listener", call),
    });
    this.cache = options.cacheFile
      ? new SnapshotCache(options.cacheFile, options.key, this.trust, this.watch, options.validate, (error) =>
          this.report(error, false),
        )
      : null;
    this.loop = this.start();
  }

  ready(): Promise<ConfigSnapshot<T>> {
    return this.listeners.ready(this.snapshot, this.closed);
  }

  current(): ConfigSnapshot<T> | undefined {
    return this.snapshot;
  }

  onChange(listener: (snapshot: ConfigSnapshot<T>, previous: ConfigSnapshot<T> | undefined) => void) {
    return this.listeners.onChange(listener);
  }

  onError(listener: (error: ConfigClientError) => void) {
    return this.listeners.onError(listener);
  }

  onStale(listener: (state: FreshnessState) => void) {
    return subscribe(this.watch.staleListeners, listener);
  }

  onFresh(listener: (state: FreshnessState) => void) {
    return subscribe(this.watch.freshListeners, listener);
  }

  freshness(): FreshnessState {
    return this.watch.state();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.watch.stop();
    this.inFlight?.abort();
    await this.loop;
    await this.cache?.flushed();
    this.listeners.closed("the client was closed before a snapshot arrived");
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
    if (this.cache) this.cached = await this.cache.load();
    this.watch.check();
    if (!this.closed) await this.pollAndSchedule();
  }

  private async pollAndSchedule(): Promise<void> {
    const exchange = newExchange();
    // Rotation and revocation reach a client that only ever sees 304s too.
    await this.trust.refreshIfDue();
    if (this.closed) return;
    const outcome = await this.poll(exchange);
    if (this.closed) return;
    this.watch.check();
    // A root accepted during this poll (rotation) is persisted with the snapshot it verifies.
    if (this.cache?.rootsChanged() && this.snapshot) this.cache.persist(this.snapshot);
    let delay = 0;
    if (outcome.kind === "failed") {
      // The edge is unreachable or misbehaving and nothing fresh was ever accepted: serve the
      // verified cached snapshot (marked stale) rather than nothing.
      if (!this.snapshot && this.cached) this.adopt({ ...this.cached, stale: true });
      this.report(outcome.error);
    }
    if (outcome.kind !== "resend") delay = this.pacer.delayAfter(outcome, exchange);
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
    // allows for the whole wait on top of the usual margin (getCapped).
    const wait = this.snapshot && !this.snapshot.stale ? this.settings.waitSeconds : null;
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
      let answer: { res: Response; body: Uint8Array };
      try {
        const request = { url: this.url, headers, waitSeconds: wait };
        answer = await getCapped(this.settings, this.options.token, request, controller, () => this.closed);
      } catch (error) {
        // The request resendIfHeld gave up: not a failure, the next one goes at once.
        if (error instanceof ConfigClientError && this.resending && !this.closed) return { kind: "resend" };
        throw error;
      }
      const { res, body } = answer;
      exchange.elapsedMs = Date.now() - started;
      if (wait !== null)
        exchange.appliedWaitSeconds = appliedWaitSeconds(res.headers.get("Preference-Applied"));
      const freshness = freshnessSeconds(res.headers.get("Cache-Control"));
      if (res.status === 304) return await this.notModified(freshness, res.headers.get("Config-Freshness"));
      if (res.status === 200) return await this.received(res, body, freshness);
      return refusedBy(res, body);
    } catch (error) {
      // A token callback or a key source failing is reported like any other failed poll.
      return failedBy(error);
    } finally {
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

  /**
   * A 200 whose snapshot failed verification or `validate`: reported as rejected, then failed —
   * except a version older than the one held (`version_rollback`), which the client never tried to
   * apply: a client that moved out of a rollout's ring is served the stable version again, and a
   * replayed old snapshot looks the same; neither is that version failing on this client.
   */
  private rejectedBy(res: Response, error: ConfigClientError): Outcome {
    const version = Number(res.headers.get("Config-Version"));
    if (Number.isSafeInteger(version) && version >= 1 && error.code !== "version_rollback")
      this.reportRejected(`${error.code}`, version);
    return failed(error);
  }

  private async notModified(freshness: number | null, proof: string | null): Promise<Outcome> {
    const held = this.snapshot ?? this.cached;
    if (held && proof !== null) {
      const problem = await this.watch.accept(proof, held.version, held.digest);
      if (problem) return failed(problem);
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
    return failed(new ConfigClientError("malformed_response", "304 without a conditional request"));
  }

  private async received(res: Response, body: Uint8Array, freshness: number | null): Promise<Outcome> {
    const result = await verifySnapshotParts(
      snapshotPartsOf(res, body),
      { key: this.options.key, minVersion: this.floorVersion() },
      this.trust,
    );
    if (!result.ok) return this.rejectedBy(res, result.error);
    // Freshness names this very answer or the answer is refused (mix-and-match): a proof for
    // another key, version or body must not make an old snapshot look current.
    const proof = res.headers.get("Config-Freshness");
    if (proof !== null) {
      const problem = await this.watch.accept(proof, result.snapshot.version, result.snapshot.digest);
      if (problem) return failed(problem);
    }
    const current = this.snapshot;
    if (current && result.snapshot.version === current.version) {
      if (!sameBytes(current.bytes, result.snapshot.body)) {
        return failed(
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
    this.cache?.persist(typed.snapshot);
    return { kind: "ok", freshness, changed: true };
  }

  /**
   * Versions below this are refused: the newest of what is served, what the cache holds, and what
   * the freshest proof seen names (a version proven current once is never traded for an older one).
   */
  private floorVersion(): number {
    return Math.max(this.snapshot?.version ?? 0, this.cached?.version ?? 0, this.watch.provenVersion());
  }

  private adopt(next: ConfigSnapshot<T>): void {
    const previous = this.snapshot;
    this.snapshot = Object.freeze(next);
    this.cached = undefined;
    this.listeners.adopted(this.snapshot, previous);
  }

  /** Tells error listeners; a failed poll (not a cache or listener problem) also settles ready(). */
  private report(error: ConfigClientError, settlesReady = true): void {
    this.listeners.report(error, settlesReady, this.snapshot !== undefined);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
