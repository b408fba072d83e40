/**
 * The origin's vars and secrets (origin/wrangler.toml + .dev.vars / `wrangler secret put`) and the
 * EDGE binding its purges use: everything config.ts parses. Apart from env.ts so that config.ts and
 * the Durable Objects, which env.ts names, need not import env.ts (that made an import cycle).
 */
export interface OriginVars {
  /** Service binding to the edge worker, used for purges when PURGE_MODE is "service". */
  EDGE?: Fetcher;
  BUILD_VERSION: string;
  MAX_CONFIG_BYTES?: string;
  PURGE_MODE?: string;
  /** JSON array of private Ed25519 JWKs that sign snapshots; the first signs, the rest are retired. */
  SIGNING_KEYS: string;
  /** JSON array of private Ed25519 JWKs that sign read tokens; the first signs. */
  TOKEN_KEYS: string;
  /** JSON `{"keys": [...]}`: every public key, current and retired (same value as the edge's). */
  PUBLIC_JWKS: string;
  /** HS256 secret for admin tokens, unless ADMIN_JWKS_URL is set. */
  ADMIN_JWT_SECRET?: string;
  /** An OIDC issuer's JWKS URL; when set, admin tokens are checked against it instead. */
  ADMIN_JWKS_URL?: string;
  ADMIN_ISSUER?: string;
  PURGE_SECRET: string;
  /** FleetStore objects per namespace (origin/store/fleet-shards.ts; default 8). */
  FLEET_SHARDS?: string;
  /** Zone purge (production): the zone id and an API token with Cache Purge permission. */
  PURGE_ZONE_ID?: string;
  PURGE_API_TOKEN?: string;
  /** Base URL of the purge API; defaults to Cloudflare's, overridden in tests by a local fake. */
  PURGE_API_BASE?: string;
}
