/**
 * The edge's read path through its tiers: isolate memory → `caches.default` → KV (DESIGN §3).
 * Heads and namespace settings age by the namespace's numbers: fresh entries are served as they
 * are; within stale-while-revalidate they are served while one background refresh runs; past it
 * the request waits for KV and, if KV fails, falls back to the last good entry within
 * stale-if-error (RFC 5861). Snapshots are immutable: found once, kept until evicted.
 * A head is only adopted once its snapshot is readable, so a head never points at missing bytes.
 */
import {
  type CacheTier,
  DEFAULT_NAMESPACE_SETTINGS,
  kvKeys,
  logLine,
  type NamespaceSettings,
} from "../../core";
import type { EdgeCache } from "./edge-cache";
import {
  cacheLifetimeSeconds,
  type Freshness,
  freshnessOf,
  type HeadEntry,
  headEntry,
  markedForRevalidation,
  type SettingsEntry,
  settingsEntry,
  type TimedEntry,
  ttlOf,
} from "./entries";
import {
  type KvReader,
  UpstreamError,
  type UpstreamReason,
  upstreamReasonOf,
  upstreamUnavailable,
} from "./kv-reader";
import type { ByteBoundedLru } from "./memory-lru";
import { type PreparedSnapshot, prepareSnapshot } from "./prepared";
import { parseHeadRecord, parseNamespaceSettings, parseSnapshotRecord } from "./records";
import { SingleFlight } from "./single-flight";

/** What isolate memory holds, tagged so one byte budget covers all three kinds. */
export type MemoryValue =
  | { kind: "head"; entry: HeadEntry }
  | { kind: "settings"; entry: SettingsEntry }
  | { kind: "snapshot"; entry: PreparedSnapshot };

/** Bytes charged for a head or settings entry: small records, so a flat estimate. */
const RECORD_WEIGHT = 512;

export interface Lookup<T> {
  entry: T;
  tier: CacheTier;
  stale: boolean;
  /** Remaining freshness in ms, negative when stale. */
  ttlMs: number;
  /** Set when the entry is served because its refresh failed (stale-if-error). */
  upstreamError?: UpstreamReason;
}

export interface SnapshotLookup {
  snapshot: PreparedSnapshot;
  tier: CacheTier;
}

export interface TieredStoreDeps {
  memory: ByteBoundedLru<MemoryValue>;
  cache: EdgeCache;
  kv: KvReader;
  now: () => number;
}

interface MutableSpec<T extends TimedEntry> {
  id: string;
  flights: SingleFlight<T>;
  settingsOf(entry: T): NamespaceSettings;
  fromMemory(): T | undefined;
  fromCache(): Promise<T | undefined>;
  fromKv(ctx: ExecutionContext): Promise<T>;
  /** Keeps an entry in isolate memory. */
  remember(entry: T): void;
  /** Keeps a fresh entry from KV in memory and, in the background, in the Cache API. */
  commit(entry: T, ctx: ExecutionContext): void;
}

export class TieredStore {
  readonly #deps: TieredStoreDeps;
  readonly #headFlights = new SingleFlight<HeadEntry>();
  readonly #settingsFlights = new SingleFlight<SettingsEntry>();
  readonly #snapshotFlights = new SingleFlight<SnapshotLookup | null>();
  /** Bumped by every purge; a refresh that started before a purge does not store its result. */
  #purgeEpoch = 0;

  constructor(deps: TieredStoreDeps) {
    this.#deps = deps;
  }

  /** The hot path, without a promise: fresh settings from isolate memory, else undefined. */
  memorySettings(namespace: string): Lookup<SettingsEntry> | undefined {
    return this.#freshInMemory(asKind(this.#deps.memory.get(`n:${namespace}`), "settings"), (e) => e.timing);
  }

  /** The hot path, without a promise: a fresh head from isolate memory, else undefined. */
  memoryHead(key: string, settings: NamespaceSettings): Lookup<HeadEntry> | undefined {
    return this.#freshInMemory(asKind(this.#deps.memory.get(`h:${key}`), "head"), () => settings);
  }

  /** The hot path, without a promise: a snapshot held in isolate memory, else undefined. */
  memorySnapshot(key: string, version: number): SnapshotLookup | undefined {
    const hot = asKind(this.#deps.memory.get(`${snapshotIdPrefix(key)}${version}`), "snapshot");
    return hot === undefined ? undefined : { snapshot: hot, tier: "memory" };
  }

  settings(namespace: string, ctx: ExecutionContext): Promise<Lookup<SettingsEntry>> {
    const { memory, cache, kv, now } = this.#deps;
    const id = `n:${namespace}`;
    const hot = this.memorySettings(namespace);
    if (hot !== undefined) return Promise.resolve(hot);
    return this.#lookup<SettingsEntry>(
      {
        id,
        flights: this.#settingsFlights,
        settingsOf: (entry) => entry.timing,
        fromMemory: () => asKind(memory.get(id), "settings"),
        fromCache: () => cache.getSettings(namespace),
        fromKv: async () => {
          const text = await kv.text(kvKeys.namespace(namespace));
          // An absent record is a valid state (defaults: private), cached like any other.
          return settingsEntry(
            text === null ? DEFAULT_NAMESPACE_SETTINGS : parseNamespaceSettings(text),
            now(),
          );
        },
        remember: (entry) => memory.set(id, { kind: "settings", entry }, RECORD_WEIGHT),
        commit: (entry, ctx) => {
          memory.set(id, { kind: "settings", entry }, RECORD_WEIGHT);
          ctx.waitUntil(cache.putSettings(namespace, entry));
        },
      },
      ctx,
    );
  }

  head(
    key: string,
    namespace: string,
    settings: NamespaceSettings,
    ctx: ExecutionContext,
  ): Promise<Lookup<HeadEntry>> {
    const { memory, cache, kv, now } = this.#deps;
    const id = `h:${key}`;
    const hot = this.memoryHead(key, settings);
    if (hot !== undefined) return Promise.resolve(hot);
    return this.#lookup<HeadEntry>(
      {
        id,
        flights: this.#headFlights,
        settingsOf: () => settings,
        fromMemory: () => asKind(memory.get(id), "head"),
        fromCache: () => cache.getHead(key),
        fromKv: async (ctx) => {
          const text = await kv.text(kvKeys.head(key));
          const head = text === null ? null : parseHeadRecord(text, key);
          if (head === null || head.deleted) {
            // Gone: its snapshots must not be served from memory any more (every read checks
            // the head first, so Cache API copies are unreachable and simply expire).
            memory.deletePrefix(snapshotIdPrefix(key));
          } else {
            // During a rollout the head names two versions: both must be readable before it is
            // adopted, and reading them now keeps both hot in memory.
            const versions = [head.version];
            if (head.rollout !== null) versions.push(head.rollout.candidate.version);
            const found = await Promise.all(versions.map((v) => this.snapshot(key, namespace, v, ctx)));
            if (found.includes(null)) {
              throw new UpstreamError("snapshot-missing", `head of ${key} points at a missing snapshot`);
            }
          }
          return headEntry(head, now());
        },
        remember: (entry) => memory.set(id, { kind: "head", entry }, RECORD_WEIGHT),
        commit: (entry, ctx) => {
          memory.set(id, { kind: "head", entry }, RECORD_WEIGHT);
          ctx.waitUntil(cache.putHead(key, namespace, entry, cacheLifetimeSeconds(settings)));
        },
      },
      ctx,
    );
  }

  /** One immutable version, or null when KV has no such snapshot. Throws UpstreamError if KV fails. */
  async snapshot(
    key: string,
    namespace: string,
    version: number,
    ctx: ExecutionContext,
  ): Promise<SnapshotLookup | null> {
    const { memory, cache, kv } = this.#deps;
    const id = `${snapshotIdPrefix(key)}${version}`;
    const hot = this.memorySnapshot(key, version);
    if (hot !== undefined) return hot;
    return this.#snapshotFlights.run(id, ctx, async () => {
      const remember = (snapshot: PreparedSnapshot) =>
        memory.set(id, { kind: "snapshot", entry: snapshot }, snapshot.weight);
      const cached = await cache.getSnapshot(key, version);
      if (cached !== undefined) {
        const snapshot = prepareSnapshot(cached);
        remember(snapshot);
        return { snapshot, tier: "cache" };
      }
      const record = await kv.bytes(kvKeys.snapshot(key, version));
      if (record === null) return null;
      const snapshot = prepareSnapshot(parseSnapshotRecord(record, key, version));
      remember(snapshot);
      // A copy goes to the Cache API so the served bytes never share a buffer with a Response body.
      ctx.waitUntil(cache.putSnapshot(key, namespace, version, record.slice(0)));
      return { snapshot, tier: "kv" };
    });
  }

  /**
   * Purges keys' heads and namespaces' settings in this location: the Cache API entries are
   * deleted, memory entries are kept only as stale-if-error fallbacks, and in-flight refreshes
   * are not stored. Snapshots are immutable and stay.
   */
  async purge(keys: readonly string[], namespaces: readonly string[]): Promise<void> {
    const { memory, cache } = this.#deps;
    this.#purgeEpoch++;
    const urls: string[] = [];
    for (const key of keys) {
      const id = `h:${key}`;
      this.#headFlights.forget(id);
      const held = asKind(memory.peek(id), "head");
      if (held !== undefined)
        memory.set(id, { kind: "head", entry: markedForRevalidation(held) }, RECORD_WEIGHT);
      urls.push(cache.headUrl(key));
    }
    for (const namespace of namespaces) {
      const id = `n:${namespace}`;
      this.#settingsFlights.forget(id);
      const held = asKind(memory.peek(id), "settings");
      if (held !== undefined)
        memory.set(id, { kind: "settings", entry: markedForRevalidation(held) }, RECORD_WEIGHT);
      urls.push(cache.settingsUrl(namespace));
    }
    await cache.delete(urls);
  }

  /** The hot path: a fresh entry in memory, answered without building a lookup spec. */
  #freshInMemory<T extends TimedEntry>(
    entry: T | undefined,
    settingsOf: (entry: T) => NamespaceSettings,
  ): Lookup<T> | undefined {
    if (entry === undefined || entry.mustRevalidate) return undefined;
    const ttlMs = ttlOf(entry, settingsOf(entry), this.#deps.now());
    return ttlMs > 0 ? { entry, tier: "memory", stale: false, ttlMs } : undefined;
  }

  async #lookup<T extends TimedEntry>(spec: MutableSpec<T>, ctx: ExecutionContext): Promise<Lookup<T>> {
    const now = this.#deps.now();
    let entry = spec.fromMemory();
    let tier: CacheTier = "memory";
    let state: Freshness = entry === undefined ? "expired" : freshnessOf(entry, spec.settingsOf(entry), now);
    if (entry === undefined || state === "stale-if-error" || state === "expired") {
      // Another isolate of this location may hold something newer in the Cache API.
      const cached = await spec.fromCache();
      if (cached !== undefined && (entry === undefined || cached.fetchedAt > entry.fetchedAt)) {
        entry = cached;
        tier = "cache";
        state = freshnessOf(cached, spec.settingsOf(cached), now);
        if (state !== "expired") spec.remember(cached);
      }
    }
    if (entry !== undefined && (state === "fresh" || state === "stale-while-revalidate")) {
      const stale = state !== "fresh";
      if (stale) {
        const refresh = this.#refresh(spec, ctx);
        ctx.waitUntil(refresh.then(noop, (error: unknown) => logRefreshFailure(spec.id, error)));
      }
      return { entry, tier, stale, ttlMs: ttlOf(entry, spec.settingsOf(entry), now) };
    }
    try {
      const fresh = await this.#refresh(spec, ctx);
      return { entry: fresh, tier: "kv", stale: false, ttlMs: spec.settingsOf(fresh).maxAge * 1000 };
    } catch (error) {
      const reason = upstreamReasonOf(error);
      logRefreshFailure(spec.id, error);
      if (entry !== undefined && state === "stale-if-error") {
        const ttlMs = ttlOf(entry, spec.settingsOf(entry), now);
        return { entry, tier, stale: true, ttlMs, upstreamError: reason };
      }
      throw upstreamUnavailable(reason);
    }
  }

  #refresh<T extends TimedEntry>(spec: MutableSpec<T>, ctx: ExecutionContext): Promise<T> {
    return spec.flights.run(spec.id, ctx, async () => {
      const epoch = this.#purgeEpoch;
      const entry = await spec.fromKv(ctx);
      if (epoch === this.#purgeEpoch) spec.commit(entry, ctx);
      return entry;
    });
  }
}

function snapshotIdPrefix(key: string): string {
  // `@` cannot occur in a key, so one key's prefix never matches a longer key's entries.
  return `s:${key}@`;
}

interface MemoryKinds {
  head: HeadEntry;
  settings: SettingsEntry;
  snapshot: PreparedSnapshot;
}

function asKind<K extends keyof MemoryKinds>(
  value: MemoryValue | undefined,
  kind: K,
): MemoryKinds[K] | undefined {
  return value?.kind === kind ? (value.entry as MemoryKinds[K]) : undefined;
}

function noop(): void {}

function logRefreshFailure(id: string, error: unknown): void {
  logLine({ part: "edge", level: "warn", event: "refresh_failed", id, reason: upstreamReasonOf(error) });
}
