/** The SDK's public shapes: what a client is given, what it returns, and what it exposes. */
import type { Jwks } from "../core/jws";
import type { ConfigClientError } from "./errors";

export interface ConfigClientOptions<T> {
  /** Base URL of the edge, e.g. `https://config.example.com`. */
  edge: string;
  /** The config key, e.g. `payments/prod/flags`. */
  key: string;
  /** Read token for private namespaces; a function is called before every request (for refresh). */
  token?: string | (() => string | Promise<string>);
  /** Pinned JWKS (recommended), or… */
  jwks?: Jwks;
  /** …a URL to fetch it from once (refetched only on an unknown kid). */
  jwksUrl?: string;
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
  /** Stops polling, aborts the request in flight (a held long-poll too) and waits for a pending
   *  cache write. */
  close(): Promise<void>;
}
