/**
 * The origin worker's bindings, vars and secrets (origin/wrangler.toml + .dev.vars /
 * `wrangler secret put`). Declared by hand: see worker/env.ts for why.
 */
import type { FleetStore } from "./store/fleet-store";
import type { NamespaceRegistry } from "./store/namespace-registry";
import type { NamespaceStore } from "./store/namespace-store";

export interface OriginEnv {
  CONFIGS: KVNamespace;
  NAMESPACES: DurableObjectNamespace<NamespaceStore>;
  /** Per namespace: the last time each client was seen at the edge, and its version (fleet view). */
  FLEET: DurableObjectNamespace<FleetStore>;
  /** One object listing the namespaces the origin has changed (GET /v1/status). */
  REGISTRY: DurableObjectNamespace<NamespaceRegistry>;
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
  /** Zone purge (production): the zone id and an API token with Cache Purge permission. */
  PURGE_ZONE_ID?: string;
  PURGE_API_TOKEN?: string;
  /** Base URL of the purge API; defaults to Cloudflare's, overridden in tests by a local fake. */
  PURGE_API_BASE?: string;
}
