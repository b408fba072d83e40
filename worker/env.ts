/**
 * The edge worker's bindings, vars and secrets (wrangler.toml + .dev.vars / `wrangler secret put`).
 * Declared by hand rather than by `wrangler types`: both workers share one TypeScript program, and
 * the generated global `Cloudflare.Env` would merge the two workers' bindings into one type.
 */
export interface EdgeEnv {
  CONFIGS: KVNamespace;
  BUILD_VERSION: string;
  /** Bytes of config kept in isolate memory (LRU). Default 32 MiB. */
  MEMORY_CACHE_BYTES?: string;
  /** JSON `{"keys": [...]}`: public snapshot and read-token keys, current and retired. */
  PUBLIC_JWKS: string;
  /** Shared with the origin: authenticates the internal purge route. */
  PURGE_SECRET: string;
}
