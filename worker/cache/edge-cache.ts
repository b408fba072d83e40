/**
 * The per-location tier: `caches.default` under synthetic URLs, shared by every isolate of the
 * location. Layout (base `https://fleetconf.cache` unless CACHE_URL_BASE says otherwise):
 *   head/{key}          body: head JSON (absent → empty, `Fleetconf-Absent: 1`), `Fleetconf-Fetched-At`
 *   ns/{namespace}      body: settings JSON, `Fleetconf-Fetched-At`
 *   snap/{key}/{ver}    body: the KV snapshot record as is (immutable)
 * Every entry carries `Cache-Tag: fc:key:<key>,fc:ns:<ns>` so a zone purge by tag reaches it.
 * Cache failures are never fatal: a failed or slow read is a miss, a failed write is logged.
 */
import { IMMUTABLE_MAX_AGE, logLine, type Snapshot } from "../../core";
import {
  cacheLifetimeSeconds,
  type HeadEntry,
  headEntry,
  type SettingsEntry,
  settingsEntry,
} from "./entries";
import { withTimeout } from "./kv-reader";
import { cacheTagOf } from "./prepared";
import { parseHeadRecord, parseNamespaceSettings, parseSnapshotRecord } from "./records";

export const DEFAULT_CACHE_URL_BASE = "https://fleetconf.cache";
const FETCHED_AT = "Fleetconf-Fetched-At";
const ABSENT = "Fleetconf-Absent";

export class EdgeCache {
  readonly #cache: Cache;
  readonly #base: string;
  readonly #timeoutMs: number;

  constructor(cache: Cache, base: string, timeoutMs: number) {
    this.#cache = cache;
    this.#base = base.replace(/\/+$/, "");
    this.#timeoutMs = timeoutMs;
  }

  headUrl(key: string): string {
    return `${this.#base}/head/${key}`;
  }

  settingsUrl(namespace: string): string {
    return `${this.#base}/ns/${namespace}`;
  }

  snapshotUrl(key: string, version: number): string {
    return `${this.#base}/snap/${key}/${version}`;
  }

  async getHead(key: string): Promise<HeadEntry | undefined> {
    const found = await this.probeHead(key);
    return found === "failed" ? undefined : found;
  }

  /**
   * Like getHead, but tells a failed or slow Cache API read (`"failed"`) from a miss: memory
   * revalidation treats a miss as a purge and reads upstream, and must not do so every interval
   * while the Cache API itself is failing.
   */
  async probeHead(key: string): Promise<HeadEntry | undefined | "failed"> {
    const res = await this.#matchOrFailed(this.headUrl(key));
    if (res === "failed") return "failed";
    if (res === undefined) return undefined;
    const fetchedAt = fetchedAtOf(res);
    if (fetchedAt === undefined) return undefined;
    if (res.headers.get(ABSENT) === "1") return headEntry(null, fetchedAt);
    return this.#parsed(() => res.text().then((text) => headEntry(parseHeadRecord(text, key), fetchedAt)));
  }

  putHead(key: string, namespace: string, entry: HeadEntry, lifetimeSeconds: number): Promise<void> {
    const headers = timedHeaders(cacheTagOf(key, namespace), entry.fetchedAt, lifetimeSeconds);
    if (entry.head === null) headers.set(ABSENT, "1");
    const body = entry.head === null ? "" : JSON.stringify(entry.head);
    return this.#put(this.headUrl(key), new Response(body, { headers }));
  }

  async getSettings(namespace: string): Promise<SettingsEntry | undefined> {
    const res = await this.#match(this.settingsUrl(namespace));
    if (res === undefined) return undefined;
    const fetchedAt = fetchedAtOf(res);
    if (fetchedAt === undefined) return undefined;
    return this.#parsed(() =>
      res.text().then((text) => settingsEntry(parseNamespaceSettings(text), fetchedAt)),
    );
  }

  putSettings(namespace: string, entry: SettingsEntry): Promise<void> {
    const lifetime = cacheLifetimeSeconds(entry.settings);
    const headers = timedHeaders(`fc:ns:${namespace}`, entry.fetchedAt, lifetime);
    return this.#put(this.settingsUrl(namespace), new Response(JSON.stringify(entry.settings), { headers }));
  }

  async getSnapshot(key: string, version: number): Promise<Snapshot | undefined> {
    const res = await this.#match(this.snapshotUrl(key, version));
    if (res === undefined) return undefined;
    return this.#parsed(() => res.arrayBuffer().then((bytes) => parseSnapshotRecord(bytes, key, version)));
  }

  /** Stores the KV record bytes as they are: immutable, so cached for as long as the cache keeps it. */
  putSnapshot(key: string, namespace: string, version: number, record: ArrayBuffer): Promise<void> {
    const headers = new Headers({
      "Cache-Control": `public, max-age=${IMMUTABLE_MAX_AGE}, immutable`,
      "Cache-Tag": cacheTagOf(key, namespace),
      "Content-Type": "application/octet-stream",
    });
    return this.#put(this.snapshotUrl(key, version), new Response(record, { headers }));
  }

  /** Deletes cached entries; resolves once the location's cache no longer holds them. */
  async delete(urls: string[]): Promise<void> {
    await Promise.all(
      urls.map((url) =>
        this.#cache.delete(url).catch((error: unknown) => logCacheFailure("delete", url, error)),
      ),
    );
  }

  async #match(url: string): Promise<Response | undefined> {
    const res = await this.#matchOrFailed(url);
    return res === "failed" ? undefined : res;
  }

  async #matchOrFailed(url: string): Promise<Response | undefined | "failed"> {
    try {
      return await withTimeout(this.#cache.match(url), this.#timeoutMs, url);
    } catch (error) {
      logCacheFailure("match", url, error);
      return "failed";
    }
  }

  async #parsed<T>(read: () => Promise<T>): Promise<T | undefined> {
    try {
      return await read();
    } catch (error) {
      logCacheFailure("read", "entry", error);
      return undefined;
    }
  }

  async #put(url: string, response: Response): Promise<void> {
    try {
      await this.#cache.put(url, response);
    } catch (error) {
      logCacheFailure("put", url, error);
    }
  }
}

function timedHeaders(cacheTag: string, fetchedAt: number, lifetimeSeconds: number): Headers {
  return new Headers({
    "Cache-Control": `public, max-age=${Math.max(1, Math.min(lifetimeSeconds, IMMUTABLE_MAX_AGE))}`,
    "Cache-Tag": cacheTag,
    "Content-Type": "application/json",
    [FETCHED_AT]: String(fetchedAt),
  });
}

function fetchedAtOf(res: Response): number | undefined {
  const raw = res.headers.get(FETCHED_AT);
  const value = raw === null ? Number.NaN : Number(raw);
  return Number.isSafeInteger(value) ? value : undefined;
}

function logCacheFailure(operation: string, url: string, error: unknown): void {
  logLine({
    part: "edge",
    level: "warn",
    event: "cache_api_failure",
    operation,
    url,
    error: String(error),
  });
}
