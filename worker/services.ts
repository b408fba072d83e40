/**
 * The edge's services, built once per isolate from the env (validated here, at the entry point)
 * and handed to handlers through `c.get("services")`. Tests pass options to control the clock,
 * wrap the real KV binding (to make reads fail, hang or count) or wrap the real Cache API.
 */

import { type PublicJwksDocument, parsePublicJwks } from "./auth/public-jwks";
import { ReadTokenGate, VERIFIED_TOKEN_CAPACITY } from "./auth/read-token-gate";
import { DEFAULT_CACHE_URL_BASE, EdgeCache } from "./cache/edge-cache";
import { type KvReader, kvTimeoutFrom, timedKvReader } from "./cache/kv-reader";
import { ByteBoundedLru, memoryBudgetFrom } from "./cache/memory-lru";
import {
  type HeadSource,
  headSourceFrom,
  type OriginHeadReader,
  originHeadReader,
} from "./cache/origin-heads";
import { type MemoryValue, TieredStore } from "./cache/tiered-store";
import { type EdgeEnv, edgeInteger } from "./env";
import { WaiterRegistry } from "./longpoll/waiters";

export interface EdgeServices {
  /** The edge clock in ms: decides freshness, token expiry and Last-Modified comparisons. */
  now: () => number;
  store: TieredStore;
  memory: ByteBoundedLru<MemoryValue>;
  /** Where heads come from: the origin's Durable Object (default) or KV only (HEAD_SOURCE=kv). */
  headSource: HeadSource;
  /** Parked long-poll requests of this isolate (MAX_WAITERS). */
  waiters: WaiterRegistry;
  readTokens: ReadTokenGate;
  jwks: PublicJwksDocument;
  /** Empty when PURGE_SECRET is unset: the purge route then refuses everyone. */
  purgeSecret: string;
  buildVersion: string;
}

export interface EdgeServiceOptions {
  now?: () => number;
  /** Builds the KV reader; the default is the real binding bounded by KV_READ_TIMEOUT_MS. */
  kv?: (env: EdgeEnv, timeoutMs: number) => KvReader;
  /** The Cache API tier; the default is `caches.default`. */
  cache?: () => Cache;
  memoryBytes?: number;
  kvTimeoutMs?: number;
  tokenCapacity?: number;
  /** Wraps the real ORIGIN binding used for heads (tests inject faults or count reads). */
  origin?: (origin: Fetcher) => Fetcher;
  originTimeoutMs?: number;
  headRevalidateMs?: number;
  maxWaiters?: number;
  /** Called once with the built services: lets tests observe memory and token state. */
  inspect?: (services: EdgeServices) => void;
}

export async function buildServices(env: EdgeEnv, options: EdgeServiceOptions = {}): Promise<EdgeServices> {
  const now = options.now ?? Date.now;
  const timeoutMs = options.kvTimeoutMs ?? kvTimeoutFrom(env.KV_READ_TIMEOUT_MS);
  const kv = options.kv ? options.kv(env, timeoutMs) : timedKvReader(env.CONFIGS, timeoutMs);
  const cacheApi = options.cache ? options.cache() : caches.default;
  const cache = new EdgeCache(cacheApi, env.CACHE_URL_BASE || DEFAULT_CACHE_URL_BASE, timeoutMs);
  const memory = new ByteBoundedLru<MemoryValue>(
    options.memoryBytes ?? memoryBudgetFrom(env.MEMORY_CACHE_BYTES),
  );
  const jwks = await parsePublicJwks(env.PUBLIC_JWKS);
  const headSource = headSourceFrom(env.HEAD_SOURCE);
  const origin = headSource === "origin" ? originReader(env, options) : null;
  const revalidateMs = options.headRevalidateMs ?? edgeInteger(env, "HEAD_REVALIDATE_MS");
  const store = new TieredStore({ memory, cache, kv, now, origin, revalidateMs });
  const waiters = new WaiterRegistry(options.maxWaiters ?? edgeInteger(env, "MAX_WAITERS"), revalidateMs);
  // A head that changes in this isolate (purge, refresh, revalidation) wakes its long-polls.
  store.onHeadChange((key) => waiters.notify(key));
  const services: EdgeServices = {
    now,
    store,
    memory,
    // Without an origin binding (or its secret) there is nothing consistent to read: KV only.
    headSource: origin === null ? "kv" : "origin",
    waiters,
    readTokens: new ReadTokenGate(jwks.jwks, now, options.tokenCapacity ?? VERIFIED_TOKEN_CAPACITY),
    jwks,
    purgeSecret: env.PURGE_SECRET ?? "",
    buildVersion: env.BUILD_VERSION ?? "unknown",
  };
  options.inspect?.(services);
  return services;
}

function originReader(env: EdgeEnv, options: EdgeServiceOptions): OriginHeadReader | null {
  if (!env.ORIGIN || !env.PURGE_SECRET) return null;
  const binding = options.origin ? options.origin(env.ORIGIN) : env.ORIGIN;
  const timeoutMs = options.originTimeoutMs ?? edgeInteger(env, "ORIGIN_HEAD_TIMEOUT_MS");
  return originHeadReader(binding, env.PURGE_SECRET, timeoutMs);
}
