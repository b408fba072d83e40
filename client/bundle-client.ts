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
import { ConfigClientError, errorForStatus } from "./errors";
import { appliedWaitSeconds, freshnessSeconds, problemDetail } from "./headers";
import { SnapshotListeners } from "./listeners";
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
import { DEFAULT_ROOT_REFRESH_MS, type TrustStore } from "./trust";
import type { ConfigClientOptions, ConfigSnapshot } from "./types";
import { snapshotPartsOf, toConfigSnapshot, verifySnapshotParts } from "./verify";

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

class PollingBundleClient implements BundleClient {
  private readonly base: string;
  private readonly bundle: string;
  private readonly signedKey: string;
  private readonly namespace: string;
  private readonly name: string;
  private readonly keys: TrustStore;
  private readonly settings: PollingSettings;
  private readonly pacer: PollPacer;
  private snapshot: BundleSnapshot | undefined;
  private closed = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Requests in flight (members are fetched in parallel): close() aborts them all. */
  private readonly inFlight = new Set<AbortController>();
  private loop: Promise<void> = Promise.resolve();
  private readonly listeners = new SnapshotListeners<BundleSnapshot>();

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
    this.settings = pollingSettings(options);
    this.pacer = new PollPacer(this.settings);
    this.keys = trustStoreOf(options, this.settings, {
      report: (error) => this.report(error, false),
      warn: (message) => console.warn(`fleetconf: ${message}`),
      rootRefreshMs: DEFAULT_ROOT_REFRESH_MS,
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
    return this.listeners.ready(this.snapshot, this.closed);
  }

  current(): BundleSnapshot | undefined {
    return this.snapshot;
  }

  onChange(listener: (s: BundleSnapshot, p: BundleSnapshot | undefined) => void) {
    return this.listeners.onChange(listener);
  }

  onError(listener: (error: ConfigClientError) => void) {
    return this.listeners.onError(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    for (const controller of this.inFlight) controller.abort();
    await this.loop;
    this.listeners.closed("the client was closed before a set arrived");
  }

  private async pollAndSchedule(): Promise<void> {
    await this.keys.refreshIfDue();
    const exchange = newExchange();
    const outcome = await this.poll(exchange);
    if (this.closed) return;
    if (outcome.kind === "failed") this.report(outcome.error);
    const delay = this.pacer.delayAfter(outcome, exchange);
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
    try {
      const request = { url, headers: { Accept: "application/json", ...headers }, waitSeconds };
      return await getCapped(this.settings, this.options.token, request, controller, () => this.closed);
    } finally {
      this.inFlight.delete(controller);
    }
  }

  private async poll(exchange: Exchange): Promise<PollOutcome> {
    const known = this.snapshot;
    const wait = known ? this.settings.waitSeconds : null;
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
        return failed(new ConfigClientError("malformed_response", "304 without a conditional request"));
      }
      if (res.status !== 200) {
        return refusedBy(res, body);
      }
      const verified = await verifySnapshotParts(
        snapshotPartsOf(res, body),
        { key: this.signedKey, minVersion: known?.version ?? 0 },
        this.keys,
      );
      if (!verified.ok) return failed(verified.error);
      if (known && verified.snapshot.version === known.version)
        return { kind: "ok", freshness, changed: false };
      let manifest: BundleManifest;
      try {
        manifest = parseBundleManifest(new TextDecoder().decode(body), {
          namespace: this.namespace,
          name: this.name,
        });
      } catch (error) {
        return failed(new ConfigClientError("malformed_response", String(error)));
      }
      if (manifest.version !== verified.snapshot.version) {
        return failed(
          new ConfigClientError("version_mismatch", "the manifest's version differs from its signed version"),
        );
      }
      const members = await this.fetchMembers(manifest);
      if (members instanceof ConfigClientError) return failed(members);
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
      return failedBy(error);
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
            snapshotPartsOf(res, body),
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

  private adopt(next: BundleSnapshot): void {
    const previous = this.snapshot;
    this.snapshot = next;
    this.listeners.adopted(next, previous);
  }

  private report(error: ConfigClientError, settlesReady = true): void {
    this.listeners.report(error, settlesReady, this.snapshot !== undefined);
  }
}
