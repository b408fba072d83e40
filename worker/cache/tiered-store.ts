/**
 * The edge's read path through its tiers: isolate memory → `caches.default` → KV (DESIGN §3).
 * Heads and namespace settings age by the namespace's numbers: fresh entries are served as they
 * are; within stale-while-revalidate they are served while one background refresh runs; past it
 * the request waits for KV and, if KV fails, falls back to the last good entry within
 * stale-if-error (RFC 5861). Snapshots are immutable: found once, kept until evicted.
 * A head is only adopted once its snapshot is readable, so a head never points at missing bytes.
 *
 * Where a head comes from (HEAD_SOURCE, docs/delivery.md): with an origin reader, from the origin's
 * Durable Object (consistent), falling back to KV's head when the origin fails or names a snapshot
 * KV cannot serve yet; without one, from KV only (the design before round 13). With an origin
 * reader, a head in isolate memory is also compared with the location's Cache API every
 * `revalidateMs` (off the request, single flight), so a zone purge, which reaches the Cache API
 * but never isolate memory, reaches every isolate within that interval.
 */
import {
  type CacheTier,
  DEFAULT_NAMESPACE_SETTINGS,
  type HeadRecord,
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
import type { OriginHeadReader } from "./origin-heads";
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
  /** The consistent head source; null reads heads from KV only (HEAD_SOURCE=kv). */
  origin?: OriginHeadReader | null;
  /** How often a head in memory is compared with the Cache API (origin mode); 0 turns it off. */
  revalidateMs?: number;
}

/** Which tiers a purge clears: both by default; `["cache"]` is what a zone purge by tag reaches. */
export type PurgeTier = "memory" | "cache";
export const ALL_PURGE_TIERS: readonly PurgeTier[] = ["memory", "cache"];

/** Bound on the per-key "last compared with the Cache API" times kept per isolate. */
const MAX_REVALIDATION_MARKS = 50_000;

/** A value read upstream and which upstream answered (KV, or the origin for a head). */
interface Fresh<T> {
  entry: T;
  tier: CacheTier;
}

interface MutableSpec<T extends TimedEntry> {
  id: string;
  flights: SingleFlight<Fresh<T>>;
  /** One Cache API read per record at a time: a purge wakes every long-poll of a key at once. */
  cacheReads: SingleFlight<T | undefined>;
  settingsOf(entry: T): NamespaceSettings;
  fromMemory(): T | undefined;
  fromCache(): Promise<T | undefined>;
  /** Reads upstream: KV, or for a head the origin first (HEAD_SOURCE=origin). */
  fromUpstream(ctx: ExecutionContext): Promise<Fresh<T>>;
  /** Keeps an entry in isolate memory. */
  remember(entry: T): void;
  /** Keeps a fresh entry from upstream in memory and, in the background, in the Cache API. */
  commit(entry: T, ctx: ExecutionContext): void;
}

export class TieredStore {
  readonly #deps: TieredStoreDeps;
  readonly #headFlights = new SingleFlight<Fresh<HeadEntry>>();
  readonly #settingsFlights = new SingleFlight<Fresh<SettingsEntry>>();
  readonly #snapshotFlights = new SingleFlight<SnapshotLookup | null>();
  readonly #revalidations = new SingleFlight<boolean>();
  readonly #headCacheReads = new SingleFlight<HeadEntry | undefined>();
  readonly #settingsCacheReads = new SingleFlight<SettingsEntry | undefined>();
  /** When each key's memory head was last compared with the Cache API (edge clock, ms). */
  readonly #checkedAt = new Map<string, number>();
  readonly #headListeners = new Set<(key: string) => void>();
  /** Bumped by every purge; a refresh that started before a purge does not store its result. */
  #purgeEpoch = 0;

  constructor(deps: TieredStoreDeps) {
    this.#deps = deps;
  }

  /** The hot path, without a promise: fresh settings from isolate memory, else undefined. */
  memorySettings(namespace: string): Lookup<SettingsEntry> | undefined {
    return this.#freshInMemory(
      asKind(this.#deps.memory.get(`n:${namespace}`), "settings"),
      (e) => e.settings,
    );
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
        cacheReads: this.#settingsCacheReads,
        settingsOf: (entry) => entry.settings,
        fromMemory: () => asKind(memory.get(id), "settings"),
        fromCache: () => cache.getSettings(namespace),
        fromUpstream: async () => {
          const text = await kv.text(kvKeys.namespace(namespace));
          // An absent record is a valid state (defaults: private), cached like any other.
          const entry = settingsEntry(
            text === null ? DEFAULT_NAMESPACE_SETTINGS : parseNamespaceSettings(text),
            now(),
          );
          return { entry, tier: "kv" };
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
    const hot = this.memoryHead(key, settings);
    if (hot !== undefined) return Promise.resolve(hot);
    return this.#lookup<HeadEntry>(this.#headSpec(key, namespace, settings), ctx);
  }

  /** Calls `listener(key)` whenever a key's head in this isolate changes or is purged (long-poll). */
  onHeadChange(listener: (key: string) => void): () => void {
    this.#headListeners.add(listener);
    return () => this.#headListeners.delete(listener);
  }

  /**
   * Called after a head was served from memory: if `revalidateMs` has passed since this key was
   * last compared with the location's Cache API, compares it now, in the background (never
   * awaited by the request, one at a time per key). Origin mode only; KV mode keeps the design it
   * replaces. Cheap when not due: one map read.
   */
  revalidateIfDue(key: string, namespace: string, settings: NamespaceSettings, ctx: ExecutionContext): void {
    const interval = this.#deps.revalidateMs ?? 0;
    if (interval <= 0 || !this.#deps.origin) return;
    const now = this.#deps.now();
    const last = this.#checkedAt.get(key);
    if (last !== undefined && now - last < interval) return;
    const check = this.revalidate(key, namespace, settings, ctx);
    ctx.waitUntil(check.then(noop, (error: unknown) => logRefreshFailure(`h:${key}`, error)));
  }

  /**
   * Compares the key's memory head with the location's Cache API now (single flight per key):
   * a newer entry there (another isolate read it) is adopted; no entry (purged, by a zone purge or
   * this location's purge route, or evicted) means a fresh read from upstream. Resolves to whether
   * the head in memory changed. In KV mode it is the ordinary tiered lookup, which refreshes only
   * once the head is past its max-age (long-poll's periodic check uses this too).
   */
  revalidate(
    key: string,
    namespace: string,
    settings: NamespaceSettings,
    ctx: ExecutionContext,
  ): Promise<boolean> {
    const { memory, cache } = this.#deps;
    const id = `h:${key}`;
    const before = asKind(memory.peek(id), "head");
    if (!this.#deps.origin) {
      return this.head(key, namespace, settings, ctx).then((found) => !sameHead(before, found.entry));
    }
    this.#markChecked(key);
    return this.#revalidations.run(id, ctx, async () => {
      const cached = await cache.probeHead(key);
      const held = asKind(memory.peek(id), "head");
      if (cached === "failed") {
        // The Cache API is failing, not purged: memory keeps its head (max-age still bounds it).
      } else if (cached === undefined) {
        await this.#refresh(this.#headSpec(key, namespace, settings), ctx);
      } else if (
        held === undefined ||
        cached.fetchedAt > held.fetchedAt ||
        (cached.fetchedAt === held.fetchedAt && !sameHead(cached, held))
      ) {
        this.#rememberHead(key, cached);
      }
      return !sameHead(before, asKind(memory.peek(id), "head"));
    });
  }

  #headSpec(key: string, namespace: string, settings: NamespaceSettings): MutableSpec<HeadEntry> {
    const { memory, cache, kv, now, origin } = this.#deps;
    const id = `h:${key}`;
    const fromKv = async (ctx: ExecutionContext): Promise<HeadEntry> => {
      const text = await kv.text(kvKeys.head(key));
      const head = text === null ? null : parseHeadRecord(text, key);
      await this.#checkAdoptable(key, namespace, head, ctx);
      return headEntry(head, now());
    };
    return {
      id,
      flights: this.#headFlights,
      cacheReads: this.#headCacheReads,
      settingsOf: () => settings,
      fromMemory: () => asKind(memory.get(id), "head"),
      fromCache: () => cache.getHead(key),
      fromUpstream: async (ctx) => {
        if (origin) {
          try {
            const head = await origin.head(key);
            // "Never published" is confirmed by KV below: an origin that knows nothing of keys
            // KV serves (a wrong binding, a reset store) must not turn them all into 404s.
            if (head !== null) {
              await this.#checkAdoptable(key, namespace, head, ctx);
              return { entry: headEntry(head, now()), tier: "origin" };
            }
          } catch (error) {
            // KV's head is the last-resort source: older perhaps, but its snapshots are there.
            logLine({
              part: "edge",
              level: "warn",
              event: "origin_head_fallback",
              key,
              reason: upstreamReasonOf(error),
            });
          }
        }
        const entry = await fromKv(ctx);
        // KV may lag: never let its older head replace a newer one this isolate already holds
        // (versions only grow); the held one is then served under stale-if-error instead.
        const held = asKind(memory.peek(id), "head")?.head;
        if (origin && held && entry.head && entry.head.version < held.version) {
          throw new UpstreamError("origin-error", `origin unavailable and KV's head of ${key} is older`);
        }
        return { entry, tier: "kv" };
      },
      remember: (entry) => this.#rememberHead(key, entry),
      commit: (entry, ctx) => {
        this.#rememberHead(key, entry);
        ctx.waitUntil(cache.putHead(key, namespace, entry, cacheLifetimeSeconds(settings)));
      },
    };
  }

  /**
   * A head may be adopted only once every version it names is readable (during a rollout, both);
   * reading them now keeps them hot in memory. A gone key's snapshots leave memory at once (every
   * read checks the head first, so Cache API copies are unreachable and simply expire).
   */
  async #checkAdoptable(
    key: string,
    namespace: string,
    head: HeadRecord | null,
    ctx: ExecutionContext,
  ): Promise<void> {
    if (head === null || head.deleted) {
      this.#deps.memory.deletePrefix(snapshotIdPrefix(key));
      return;
    }
    const versions = [head.version];
    if (head.rollout !== null) versions.push(head.rollout.candidate.version);
    const found = await Promise.all(versions.map((v) => this.snapshot(key, namespace, v, ctx)));
    if (found.includes(null)) {
      throw new UpstreamError("snapshot-missing", `head of ${key} points at a missing snapshot`);
    }
  }

  #rememberHead(key: string, entry: HeadEntry): void {
    const id = `h:${key}`;
    const before = asKind(this.#deps.memory.peek(id), "head");
    this.#deps.memory.set(id, { kind: "head", entry }, RECORD_WEIGHT);
    // Just read from the Cache API or upstream: the next comparison is due an interval from now.
    this.#markChecked(key);
    if (!sameHead(before, entry)) this.#emitHeadChange(key);
  }

  #markChecked(key: string): void {
    if (this.#checkedAt.size >= MAX_REVALIDATION_MARKS) this.#checkedAt.clear();
    this.#checkedAt.set(key, this.#deps.now());
  }

  #emitHeadChange(key: string): void {
    for (const listener of this.#headListeners) listener(key);
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
  async purge(
    keys: readonly string[],
    namespaces: readonly string[],
    tiers: readonly PurgeTier[] = ALL_PURGE_TIERS,
  ): Promise<void> {
    const { memory, cache } = this.#deps;
    const urls: string[] = [];
    if (!tiers.includes("memory")) {
      // What a zone purge by tag does: the location's Cache API only, never isolate memory.
      for (const key of keys) urls.push(cache.headUrl(key));
      for (const namespace of namespaces) urls.push(cache.settingsUrl(namespace));
      await cache.delete(urls);
      return;
    }
    this.#purgeEpoch++;
    for (const key of keys) {
      const id = `h:${key}`;
      this.#headFlights.forget(id);
      // A Cache API read that began before the purge may still return the purged entry.
      this.#headCacheReads.forget(id);
      const held = asKind(memory.peek(id), "head");
      if (held !== undefined)
        memory.set(id, { kind: "head", entry: markedForRevalidation(held) }, RECORD_WEIGHT);
      urls.push(cache.headUrl(key));
    }
    for (const namespace of namespaces) {
      const id = `n:${namespace}`;
      this.#settingsFlights.forget(id);
      this.#settingsCacheReads.forget(id);
      const held = asKind(memory.peek(id), "settings");
      if (held !== undefined)
        memory.set(id, { kind: "settings", entry: markedForRevalidation(held) }, RECORD_WEIGHT);
      urls.push(cache.settingsUrl(namespace));
    }
    if (tiers.includes("cache")) await cache.delete(urls);
    // Parked long-polls re-check now; their shared refresh goes upstream (memory is marked).
    for (const key of keys) this.#emitHeadChange(key);
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
      const cached = await spec.cacheReads.run(spec.id, ctx, () => spec.fromCache());
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
      const fresh = await this.#refreshWithTier(spec, ctx);
      return {
        entry: fresh.entry,
        tier: fresh.tier,
        stale: false,
        ttlMs: spec.settingsOf(fresh.entry).maxAge * 1000,
      };
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
    return this.#refreshWithTier(spec, ctx).then((fresh) => fresh.entry);
  }

  #refreshWithTier<T extends TimedEntry>(spec: MutableSpec<T>, ctx: ExecutionContext): Promise<Fresh<T>> {
    return spec.flights.run(spec.id, ctx, async () => {
      const epoch = this.#purgeEpoch;
      const fresh = await spec.fromUpstream(ctx);
      if (epoch === this.#purgeEpoch) spec.commit(fresh.entry, ctx);
      return fresh;
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

/** Whether two memory heads would answer every request alike (purge marks do not count). */
function sameHead(a: HeadEntry | undefined, b: HeadEntry | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.head === null || b.head === null) return a.head === b.head;
  return (
    a.head.version === b.head.version &&
    a.head.etag === b.head.etag &&
    a.head.deleted === b.head.deleted &&
    JSON.stringify(a.head.rollout) === JSON.stringify(b.head.rollout)
  );
}

function logRefreshFailure(id: string, error: unknown): void {
  logLine({ part: "edge", level: "warn", event: "refresh_failed", id, reason: upstreamReasonOf(error) });
}
