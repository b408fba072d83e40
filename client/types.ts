/** The SDK's public shapes: what a client is given, what it returns, and what it exposes. */
import type { FreshnessPayload } from "../core/freshness";
import type { Jwks } from "../core/jws";
import type { RootDocument } from "../core/trust-root";
import type { ConfigClientError } from "./errors";

export interface ConfigClientOptions<T> {
  /** Base URL of the edge, e.g. `https://config.example.com`. */
  edge: string;
  /** The config key, e.g. `payments/prod/flags`. */
  key: string;
  /** Read token for private namespaces; a function is called before every request (for refresh). */
  token?: string | (() => string | Promise<string>);
  /**
   * What to trust (docs/client.md "Pinning"): exactly one of `trustRoot`, `jwks` or
   * `keyThumbprints` is required, except against a loopback edge (development), where with none
   * the edge's root or JWKS is trusted on first use, with a warning.
   *
   * A root document (core/trust-root.ts), parsed JSON or its text: its snapshot keys verify, and
   * newer roots from `rootUrl` are followed only along the signed chain (key rotation, revocation).
   */
  trustRoot?: RootDocument | unknown;
  /** Where newer roots are fetched (`?version=N` is added); default the edge's
   *  `/.well-known/fleetconf-root.json`. */
  rootUrl?: string;
  /** A pinned JWKS: exactly these snapshot keys, for good. */
  jwks?: Jwks;
  /** Pinned RFC 7638 thumbprints (SHA-256, base64url or RFC 9278 URN) of the snapshot keys: the
   *  JWKS is fetched from `jwksUrl`, but only keys with a pinned thumbprint are used. */
  keyThumbprints?: string[];
  /** Where a thumbprint-pinned (or loopback TOFU) client fetches the JWKS; default the edge's. */
  jwksUrl?: string;
  /** Freeze detection: the client reports `onStale` when it has had no valid `Config-Freshness`
   *  proof younger than this (or the newest one expired), while keeping its last good snapshot.
   *  Unset: stale only once the newest proof has expired. */
  maxStalenessMs?: number;
  /** How often a root-pinned client looks for a newer root without being asked; default 1 h. */
  rootRefreshMs?: number;
  /** Where warnings go (trust on first use, an accepted root); default console.warn. */
  warn?: (message: string) => void;
  /** Minimum time between polls; default 5000. The edge's max-age can only lengthen it. While the
   *  edge honours long-polls it only paces the fallback (an edge or proxy that does not hold). */
  intervalMs?: number;
  /** Long-poll (RFC 7240 `Prefer: wait`, DESIGN §8) when the edge honours it; default true. With
   *  `false` the client polls every `intervalMs` and never sends `Prefer`. */
  longPoll?: boolean;
  /** Seconds the edge may hold a conditional request (`Prefer: wait=<s>`): 1-60, default 30. */
  waitSeconds?: number;
  /** Sent as `Config-Client-Id` (≤128 of `[A-Za-z0-9._:-]`); default a random id per client. */
  clientId?: string;
  /** Node only: where to keep the last good snapshot across restarts. */
  cacheFile?: string;
  fetch?: typeof fetch;
  /** Parses the JSON value into the caller's type; throwing refuses the snapshot (`invalid_config`). */
  validate?: (value: unknown) => T;
  maxBackoffMs?: number;
  /** Default 10000. A long-poll may take `waitSeconds` longer: its timeout is the sum of both. */
  requestTimeoutMs?: number;
  /** Least time between key look-ups caused by unknown kids; default 60000. */
  jwksRefetchMinMs?: number;
  /** For tests: the jitter source (default Math.random). */
  random?: () => number;
}

export interface ConfigSnapshot<T> {
  readonly key: string;
  readonly version: number;
  readonly etag: string;
  readonly value: T;
  readonly bytes: Uint8Array;
  /** Publish time, ms since the epoch (the signed `iat`). */
  readonly publishedAt: number;
  /** True while the snapshot comes from the cache file and the edge has not confirmed it. */
  readonly stale: boolean;
  readonly digest: string;
  readonly signature: string;
  readonly kid: string;
}

/** What the client knows about how current its snapshot is (freeze detection). */
export interface FreshnessState {
  readonly stale: boolean;
  /** Until when (ms since the epoch) the newest proof counts; Infinity when nothing bounds it. */
  readonly freshUntil: number;
  /** The newest valid Config-Freshness payload seen (times in seconds), if any. */
  readonly proof: FreshnessPayload | null;
  /** The version the client holds. */
  readonly version: number | null;
}

export interface ConfigClient<T> {
  /** Resolves with the first snapshot (fresh, or stale from the cache file when the edge is unreachable);
   *  while there is none, rejects with the next error. Polling continues either way. */
  ready(): Promise<ConfigSnapshot<T>>;
  current(): ConfigSnapshot<T> | undefined;
  /** Called once per newly accepted version (and once when a cached snapshot is first used). */
  onChange(
    listener: (snapshot: ConfigSnapshot<T>, previous: ConfigSnapshot<T> | undefined) => void,
  ): () => void;
  onError(listener: (error: ConfigClientError) => void): () => void;
  /**
   * Tells the origin (through `Config-Client-Status` on the next poll, DESIGN §8) that the
   * application applied `version` (default: the current snapshot's). No request of its own.
   */
  reportApplied(version?: number): void;
  /**
   * Tells the origin the application refused or failed to apply `version` (default: the current
   * snapshot's), with a short reason; a health-gated rollout aborts on enough of these. Snapshots
   * that fail verification or `validate` are reported by the client itself.
   */
  reportRejected(reason: string, version?: number): void;
  /** Called when the client becomes stale: no fresh proof can be had (a freeze attack, a stuck
   *  cache, an unreachable edge). The last good snapshot stays in use. */
  onStale(listener: (state: FreshnessState) => void): () => void;
  /** Called when a stale client gets a fresh proof again. */
  onFresh(listener: (state: FreshnessState) => void): () => void;
  freshness(): FreshnessState;
  /** Stops polling, aborts the request in flight (a held long-poll too) and waits for a pending
   *  cache write. */
  close(): Promise<void>;
}
