/**
 * `createBundleClient`: keeps a bundle — a named set of keys (DESIGN §8, docs/bundles.md) — current
 * and hands the application the whole verified set at once, never a mix of old and new members.
 *
 * One conditional GET of `/v1/bundles/{namespace}/{name}` (long-polled with `Prefer: wait`, like
 * the config client) says which member versions form the current set. The manifest is verified
 * exactly as a config is (client/verify.ts), its signed `key` being `bundle:{namespace}/{name}`;
 * then every member whose version changed is fetched as that immutable version
 * (`/v1/configs/{key}?version=N`), verified, and checked against the manifest's digest. Only when
 * every member verified is the set adopted, in one step; if any member fails, the previous set
 * stays and the manifest is fetched again after a backoff.
 */
import {
  BUNDLE_KEY_PREFIX,
  type BundleManifest,
  parseBundleManifest,
  parseBundlePath,
} from "../core/bundles";
import type { Jwks } from "../core/jws";
import { readWithin } from "../core/streams";
import { MAX_BODY_BYTES, MAX_WAIT_SECONDS, trustAnchorOf } from "./client";
import { ConfigClientError, errorForStatus } from "./errors";
import { appliedWaitSeconds, freshnessSeconds, problemDetail, retryAfterMs } from "./headers";
import { DEFAULT_JWKS_REFETCH_MIN_MS } from "./jwks";
import {
  DEFAULT_INTERVAL_MS,
  DEFAULT_MAX_BACKOFF_MS,
  delayAfterFailure,
  delayAfterSuccess,
  pollAgainAtOnce,
  type SchedulePolicy,
} from "./schedule";
import { DEFAULT_ROOT_REFRESH_MS, TrustStore } from "./trust";
import type { ConfigClientOptions, ConfigSnapshot } from "./types";
import { toConfigSnapshot, verifySnapshotParts } from "./verify";

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_WAIT_SECONDS = 30;

export interface BundleClientOptions {
  /** Base URL of the edge. */
  edge: string;
  /** `namespace/name`. */
  bundle: string;
  token?: string | (() => string | Promise<string>);
  /** What to trust, exactly as the config client takes it (docs/client.md "Trust"). */
  trustRoot?: ConfigClientOptions<unknown>["trustRoot"];
  rootUrl?: string;
  jwks?: Jwks;
  keyThumbprints?: string[];
  jwksUrl?: string;
  intervalMs?: number;
  longPoll?: boolean;
  waitSeconds?: number;
  fetch?: typeof fetch;
  maxBackoffMs?: number;
  requestTimeoutMs?: number;
  jwksRefetchMinMs?: number;
  random?: () => number;
}

export interface BundleSnapshot {
  /** `namespace/name`. */
  readonly bundle: string;
  /** The manifest's version: it moves whenever any member's version does. */
  readonly version: number;
  readonly etag: string;
  /** Every member, verified, at the version the manifest names. */
  readonly members: Readonly<Record<string, ConfigSnapshot<unknown>>>;
}

export interface BundleClient {
  ready(): Promise<BundleSnapshot>;
  current(): BundleSnapshot | undefined;
  /** Called once per newly adopted set, with the whole set. */
  onChange(listener: (snapshot: BundleSnapshot, previous: BundleSnapshot | undefined) => void): () => void;
  onError(listener: (error: ConfigClientError) => void): () => void;
  close(): Promise<void>;
}

export function createBundleClient(options: BundleClientOptions): BundleClient {
  return new PollingBundleClient(options);
}

type Outcome =
  | { kind: "ok"; freshness: number | null; changed: boolean }
  | { kind: "failed"; error: ConfigClientError; retryAfter: number | null };

class PollingBundleClient implements BundleClient {
  private readonly base: string;
  private readonly bundle: string;
  private readonly signedKey: string;
  private readonly namespace: string;
  private readonly name: string;
  private readonly keys: TrustStore;
  private readonly policy: SchedulePolicy;
  private readonly fetcher: typeof fetch;
  private readonly timeoutMs: number;
  private readonly waitSeconds: number | null;
  private snapshot: BundleSnapshot | undefined;
  private failures = 0;
  private closed = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Requests in flight (members are fetched in parallel): close() aborts them all. */
  private readonly inFlight = new Set<AbortController>();
  private loop: Promise<void> = Promise.resolve();
  private readonly changeListeners = new Set<(s: BundleSnapshot, p: BundleSnapshot | undefined) => void>();
  private readonly errorListeners = new Set<(error: ConfigClientError) => void>();
  private readonly waiters = new Set<{
    resolve: (s: BundleSnapshot) => void;
    reject: (e: unknown) => void;
  }>();

  constructor(private readonly options: BundleClientOptions) {
    let ref: ReturnType<typeof parseBundlePath>;
    try {
      ref = parseBundlePath(options.bundle);
    } catch (error) {
      throw new TypeError(`fleetconf: invalid bundle ${JSON.stringify(options.bundle)}: ${String(error)}`);
    }
    if (!/^https?:\/\//.test(options.edge)) throw new TypeError("fleetconf: edge must be an http(s) URL");
    this.namespace = ref.namespace;
    this.name = ref.name;
    this.bundle = `${ref.namespace}/${ref.name}`;
    this.signedKey = `${BUNDLE_KEY_PREFIX}${this.bundle}`;
    this.base = options.edge.replace(/\/+$/, "");
    this.fetcher = options.fetch ?? globalThis.fetch.bind(globalThis);
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
    this.keys = new TrustStore(trustAnchorOf(options), {
      fetch: this.fetcher,
      timeoutMs: this.timeoutMs,
      now: Date.now,
      refetchMinMs: options.jwksRefetchMinMs ?? DEFAULT_JWKS_REFETCH_MIN_MS,
      rootRefreshMs: DEFAULT_ROOT_REFRESH_MS,
      report: (error) => this.report(error, false),
      warn: (message) => console.warn(`fleetconf: ${message}`),
    });
    this.loop = this.start();
  }

  private async start(): Promise<void> {
    try {
      await this.keys.init();
    } catch (error) {
      this.report(
        new ConfigClientError("root_refused", String((error as Error).message ?? error), { cause: error }),
      );
      return;
    }
    if (!this.closed) await this.pollAndSchedule();
  }

  ready(): Promise<BundleSnapshot> {
    if (this.snapshot) return Promise.resolve(this.snapshot);
    if (this.closed) return Promise.reject(new ConfigClientError("closed", "the client is closed"));
    return new Promise((resolve, reject) => this.waiters.add({ resolve, reject }));
  }

  current(): BundleSnapshot | undefined {
    return this.snapshot;
  }

  onChange(listener: (s: BundleSnapshot, p: BundleSnapshot | undefined) => void) {
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
    for (const controller of this.inFlight) controller.abort();
    await this.loop;
    const error = new ConfigClientError("closed", "the client was closed before a set arrived");
    for (const waiter of this.waiters) waiter.reject(error);
    this.waiters.clear();
  }

  private async pollAndSchedule(): Promise<void> {
    await this.keys.refreshIfDue();
    const exchange = { asked: false, appliedWaitSeconds: null as number | null, elapsedMs: 0 };
    const outcome = await this.poll(exchange);
    if (this.closed) return;
    let delay: number;
    if (outcome.kind === "ok") {
      this.failures = 0;
      const atOnce = pollAgainAtOnce({
        enabled: this.waitSeconds !== null,
        changed: outcome.changed,
        ...exchange,
      });
      delay = atOnce ? 0 : delayAfterSuccess(this.policy, outcome.freshness);
    } else {
      this.failures++;
      this.report(outcome.error);
      delay = delayAfterFailure(this.policy, this.failures, outcome.retryAfter);
    }
    this.timer = setTimeout(() => {
      this.loop = this.pollAndSchedule();
    }, delay);
  }

  /** One GET with this client's token, timeout and abort; the body read within the cap. */
  private async get(
    url: string,
    headers: Record<string, string>,
    waitSeconds: number | null,
  ): Promise<{ res: Response; body: Uint8Array }> {
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timeoutMs = this.timeoutMs + (waitSeconds ?? 0) * 1000;
    const timeout = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const token =
        typeof this.options.token === "function" ? await this.options.token() : this.options.token;
      const all: Record<string, string> = { Accept: "application/json", ...headers };
      if (token) all.Authorization = `Bearer ${token}`;
      let res: Response;
      try {
        res = await this.fetcher(url, { headers: all, signal: controller.signal });
      } catch (error) {
        const reason =
          controller.signal.aborted && !this.closed ? `timed out after ${timeoutMs} ms` : String(error);
        throw new ConfigClientError("network_error", `cannot reach ${url}: ${reason}`, { cause: error });
      }
      const body = await readWithin(res.body, MAX_BODY_BYTES);
      if (body === null)
        throw new ConfigClientError("malformed_response", `the body is larger than ${MAX_BODY_BYTES} bytes`);
      return { res, body };
    } finally {
      clearTimeout(timeout);
      this.inFlight.delete(controller);
    }
  }

  private async poll(exchange: {
    asked: boolean;
    appliedWaitSeconds: number | null;
    elapsedMs: number;
  }): Promise<Outcome> {
    const known = this.snapshot;
    const wait = known ? this.waitSeconds : null;
    const headers: Record<string, string> = {};
    if (known) headers["If-None-Match"] = known.etag;
    if (wait !== null) headers.Prefer = `wait=${wait}`;
    exchange.asked = wait !== null;
    const started = Date.now();
    try {
      const { res, body } = await this.get(`${this.base}/v1/bundles/${this.bundle}`, headers, wait);
      exchange.elapsedMs = Date.now() - started;
      if (wait !== null)
        exchange.appliedWaitSeconds = appliedWaitSeconds(res.headers.get("Preference-Applied"));
      const freshness = freshnessSeconds(res.headers.get("Cache-Control"));
      if (res.status === 304) {
        if (known) return { kind: "ok", freshness, changed: false };
        return this.failed(new ConfigClientError("malformed_response", "304 without a conditional request"));
      }
      if (res.status !== 200) {
        const detail = problemDetail(res.headers.get("Content-Type"), body);
        return this.failed(
          errorForStatus(res.status, detail),
          retryAfterMs(res.headers.get("Retry-After"), Date.now()),
        );
      }
      const verified = await verifySnapshotParts(
        {
          etag: res.headers.get("ETag"),
          configVersion: res.headers.get("Config-Version"),
          contentDigest: res.headers.get("Content-Digest"),
          signature: res.headers.get("Config-Signature"),
          body,
        },
        { key: this.signedKey, minVersion: known?.version ?? 0 },
        this.keys,
      );
      if (!verified.ok) return this.failed(verified.error);
      if (known && verified.snapshot.version === known.version)
        return { kind: "ok", freshness, changed: false };
      let manifest: BundleManifest;
      try {
        manifest = parseBundleManifest(new TextDecoder().decode(body), {
          namespace: this.namespace,
          name: this.name,
        });
      } catch (error) {
        return this.failed(new ConfigClientError("malformed_response", String(error)));
      }
      if (manifest.version !== verified.snapshot.version) {
        return this.failed(
          new ConfigClientError("version_mismatch", "the manifest's version differs from its signed version"),
        );
      }
      const members = await this.fetchMembers(manifest);
      if (members instanceof ConfigClientError) return this.failed(members);
      this.adopt(
        Object.freeze({
          bundle: this.bundle,
          version: manifest.version,
          etag: verified.snapshot.etag,
          members,
        }),
      );
      return { kind: "ok", freshness, changed: true };
    } catch (error) {
      if (error instanceof ConfigClientError) return this.failed(error);
      return this.failed(new ConfigClientError("network_error", String(error), { cause: error }));
    }
  }

  /** Every member at the manifest's version, verified; members already held at it are reused. */
  private async fetchMembers(
    manifest: BundleManifest,
  ): Promise<Readonly<Record<string, ConfigSnapshot<unknown>>> | ConfigClientError> {
    const held = this.snapshot?.members ?? {};
    const entries = await Promise.all(
      Object.entries(manifest.members).map(
        async ([key, member]): Promise<[string, ConfigSnapshot<unknown>] | ConfigClientError> => {
          const have = held[key];
          if (have && have.version === member.version && have.digest === member.digest) return [key, have];
          const { res, body } = await this.get(
            `${this.base}/v1/configs/${key}?version=${member.version}`,
            {},
            null,
          );
          if (res.status !== 200)
            return errorForStatus(res.status, problemDetail(res.headers.get("Content-Type"), body));
          const verified = await verifySnapshotParts(
            {
              etag: res.headers.get("ETag"),
              configVersion: res.headers.get("Config-Version"),
              contentDigest: res.headers.get("Content-Digest"),
              signature: res.headers.get("Config-Signature"),
              body,
            },
            { key, minVersion: member.version },
            this.keys,
          );
          if (!verified.ok) return verified.error;
          if (verified.snapshot.version !== member.version) {
            return new ConfigClientError(
              "version_mismatch",
              `${key} came as v${verified.snapshot.version}, the manifest names v${member.version}`,
            );
          }
          if (verified.snapshot.digest !== member.digest) {
            return new ConfigClientError(
              "digest_mismatch",
              `${key} v${member.version} does not have the manifest's digest`,
            );
          }
          const typed = toConfigSnapshot<unknown>(verified.snapshot, false, undefined);
          return typed.ok ? [key, typed.snapshot] : typed.error;
        },
      ),
    );
    const members: Record<string, ConfigSnapshot<unknown>> = {};
    for (const entry of entries) {
      if (entry instanceof ConfigClientError) return entry;
      members[entry[0]] = entry[1];
    }
    return Object.freeze(members);
  }

  private failed(error: ConfigClientError, retryAfter: number | null = null): Outcome {
    return { kind: "failed", error, retryAfter };
  }

  private adopt(next: BundleSnapshot): void {
    const previous = this.snapshot;
    this.snapshot = next;
    for (const waiter of this.waiters) waiter.resolve(next);
    this.waiters.clear();
    for (const listener of this.changeListeners) {
      try {
        listener(next, previous);
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
}
