/**
 * The edge worker's bindings, vars and secrets (wrangler.toml + .dev.vars / `wrangler secret put`).
 * Declared by hand rather than by `wrangler types`: both workers share one TypeScript program, and
 * the generated global `Cloudflare.Env` would merge the two workers' bindings into one type.
 * The integer vars are read with `edgeInteger`, on the one integer rule both workers use
 * (core/settings.ts).
 */
import { type IntegerRule, parseIntegerSetting } from "../core";
import { DEFAULT_KV_READ_TIMEOUT_MS } from "./cache/kv-reader";
import { DEFAULT_MEMORY_CACHE_BYTES } from "./cache/memory-lru";
import { DEFAULT_HEAD_REVALIDATE_MS, DEFAULT_ORIGIN_HEAD_TIMEOUT_MS } from "./cache/origin-heads";
import { DEFAULT_FLEET_OPTIONS } from "./fleet/recorder";
import { DEFAULT_MAX_WAITERS } from "./longpoll/waiters";
import { DEFAULT_METRICS_INTERVAL_MS } from "./metrics/counters";

export interface EdgeEnv {
  CONFIGS: KVNamespace;
  BUILD_VERSION: string;
  /** Bytes of config kept in isolate memory (LRU). Default 32 MiB. */
  MEMORY_CACHE_BYTES?: string;
  /** Milliseconds a KV read may take before the edge treats KV as failing. Default 2000. */
  KV_READ_TIMEOUT_MS?: string;
  /**
   * Origin of the synthetic URLs the edge stores in `caches.default`. Default
   * `https://fleetconf.cache`; in production use a hostname of the zone so zone purges reach them.
   */
  CACHE_URL_BASE?: string;
  /** JSON `{"keys": [...]}`: public snapshot and read-token keys, current and retired. */
  PUBLIC_JWKS: string;
  /** Shared with the origin: authenticates the internal purge route. */
  PURGE_SECRET: string;
  /**
   * Service binding to the origin: fleet sightings go to its `/internal/fleet` (docs/operations.md)
   * and, with HEAD_SOURCE=origin, heads are read from its `/internal/heads/{key}` (docs/delivery.md).
   */
  ORIGIN?: Fetcher;
  /** "origin" (default): heads from the origin's Durable Object, KV as fallback; "kv": KV only. */
  HEAD_SOURCE?: string;
  /** Milliseconds between comparisons of a memory head with the Cache API. Default 250. */
  HEAD_REVALIDATE_MS?: string;
  /** Milliseconds an origin head read may take before the edge falls back to KV. Default 1000. */
  ORIGIN_HEAD_TIMEOUT_MS?: string;
  /** Long-poll requests one isolate may hold at once; past it `503` + Retry-After. Default 10000. */
  MAX_WAITERS?: string;
  /** "off" stops recording fleet sightings (the bench's A/B); anything else, or unset, records. */
  FLEET_RECORDING?: string;
  /** Milliseconds between fleet flushes per isolate. Default 2000. */
  FLEET_FLUSH_MS?: string;
  /** Milliseconds between the isolate's `edge_metrics` log lines. Default 60000. */
  METRICS_INTERVAL_MS?: string;
  /**
   * Log 1 in N request lines for fresh 200/304 answers from isolate memory (default 100; "1" logs
   * every request). Everything else is always logged; the metrics line counts every request.
   */
  LOG_HIT_SAMPLE?: string;
}

/**
 * The edge's integer vars: default and accepted range. A value outside its rule keeps the default,
 * so a typo in a var can never take reads down.
 */
export const EDGE_INTEGER_RULES = {
  MEMORY_CACHE_BYTES: { default: DEFAULT_MEMORY_CACHE_BYTES, min: 1, max: 2 ** 40 },
  KV_READ_TIMEOUT_MS: { default: DEFAULT_KV_READ_TIMEOUT_MS, min: 1, max: 60_000 },
  FLEET_FLUSH_MS: { default: DEFAULT_FLEET_OPTIONS.flushIntervalMs, min: 1, max: 3_600_000 },
  METRICS_INTERVAL_MS: { default: DEFAULT_METRICS_INTERVAL_MS, min: 1, max: 86_400_000 },
  // Kept beside worker/app.ts's DEFAULT_LOG_HIT_SAMPLE (100), which imports this module.
  LOG_HIT_SAMPLE: { default: 100, min: 1, max: 9_999_999 },
  // At least 10 ms: it is also the long-poll's tick, which must never spin.
  HEAD_REVALIDATE_MS: { default: DEFAULT_HEAD_REVALIDATE_MS, min: 10, max: 60_000 },
  ORIGIN_HEAD_TIMEOUT_MS: { default: DEFAULT_ORIGIN_HEAD_TIMEOUT_MS, min: 1, max: 60_000 },
  MAX_WAITERS: { default: DEFAULT_MAX_WAITERS, min: 1, max: 10_000_000 },
} as const satisfies Record<string, IntegerRule>;

export type EdgeIntegerName = keyof typeof EDGE_INTEGER_RULES;

/** The integer var's value by its rule, or its default when unset or invalid. */
export function edgeInteger(env: Partial<Pick<EdgeEnv, EdgeIntegerName>>, name: EdgeIntegerName): number {
  const parsed = parseIntegerSetting(name, env[name], EDGE_INTEGER_RULES[name]);
  return parsed.ok ? parsed.value : EDGE_INTEGER_RULES[name].default;
}
