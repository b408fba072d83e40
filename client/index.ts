/**
 * fleetconf client SDK: fetch one config key from the edge, verified, and keep it current.
 *
 *   import { createConfigClient } from "fleetconf/client";
 *   const client = createConfigClient({ edge, key: "payments/prod/flags", jwks });
 *   const { value } = await client.ready();
 *   client.onChange((snapshot) => apply(snapshot.value));
 *
 * See docs/client.md.
 */
export type { FreshnessPayload } from "../core/freshness";
export type { Jwks, PublicJwk } from "../core/jws";
export type { RootDocument, RootSigned } from "../core/trust-root";
export type { CacheRecord } from "./cache-file";
export { createConfigClient } from "./client";
export { CONFIG_CLIENT_ERROR_CODES, ConfigClientError, type ConfigClientErrorCode } from "./errors";
export { jwkThumbprint, parseJwks } from "./jwks";
export { isLoopbackUrl } from "./trust";
export type { ConfigClient, ConfigClientOptions, ConfigSnapshot, FreshnessState } from "./types";
