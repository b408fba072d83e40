/**
 * Freeze detection for the config client (DESIGN §8, TUF's timestamp role): keeps the freshest
 * valid `Config-Freshness` proof seen, refuses a proof that names another key, version or body,
 * and tells `onStale` / `onFresh` listeners when no proof newer than `maxStalenessMs` (or an
 * unexpired one) can be had, re-checking at each deadline.
 */
import { type FreshnessPayload, sameSha256Digest } from "../core/freshness";
import { ConfigClientError } from "./errors";
import type { TrustStore } from "./trust";
import type { FreshnessState } from "./types";

export interface FreshnessWatchOptions {
  key: string;
  maxStalenessMs: number | undefined;
  trust: Pick<TrustStore, "verifyFreshness">;
  /** The version held (served or cached), or null. */
  version(): number | null;
  closed(): boolean;
  /** Reports a problem that fails nothing (an expired proof). */
  report(error: ConfigClientError): void;
  /** Calls each listener, reporting one that throws (client/listeners.ts). */
  notify(
    listeners: Iterable<(state: FreshnessState) => void>,
    call: (l: (s: FreshnessState) => void) => void,
  ): void;
}

export class FreshnessWatch {
  readonly staleListeners = new Set<(state: FreshnessState) => void>();
  readonly freshListeners = new Set<(state: FreshnessState) => void>();
  /** The newest valid Config-Freshness payload seen (from the edge or the cache file). */
  private freshest: FreshnessPayload | null = null;
  private freshestJws: string | null = null;
  private readonly startedAt = Date.now();
  private stale = false;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: FreshnessWatchOptions) {}

  /** The version the freshest proof names: one proven current once is never traded for an older. */
  provenVersion(): number {
    return this.freshest?.ver ?? 0;
  }

  /** The freshest proof when it names `version` (so it re-verifies with it from a cache file). */
  proofFor(version: number): string | null {
    return this.freshest?.ver === version ? this.freshestJws : null;
  }

  state(): FreshnessState {
    return Object.freeze({
      stale: this.stale,
      freshUntil: this.freshUntil(),
      proof: this.freshest,
      version: this.options.version(),
    });
  }

  /**
   * Checks a `Config-Freshness` proof against the answer it came with; a valid one becomes the
   * freshest when it is newer. Returns the reason to refuse the answer, or null.
   */
  async accept(jws: string, version: number, digest: string): Promise<ConfigClientError | null> {
    const check = await this.options.trust.verifyFreshness(jws);
    if (!check.ok) {
      const code =
        check.code === "revoked_key" || check.code === "root_expired" ? check.code : "bad_freshness";
      return new ConfigClientError(code, `Config-Freshness refused: ${check.reason}`);
    }
    const p = check.payload;
    const key = this.options.key;
    if (p.key !== key || p.ver !== version || !sameSha256Digest(p.digest, digest)) {
      return new ConfigClientError(
        "freshness_mismatch",
        `Config-Freshness names ${p.key} v${p.ver}, not ${key} v${version} with this digest`,
      );
    }
    if (p.exp * 1000 <= Date.now()) {
      // Proves nothing about now; the answer itself is still a valid snapshot, so it is not
      // refused, but it does not refresh anything (onStale reports the freeze).
      this.options.report(
        new ConfigClientError("freshness_expired", `Config-Freshness for v${p.ver} expired`),
      );
      return null;
    }
    if (!this.freshest || p.iat > this.freshest.iat || p.ver > this.freshest.ver) {
      this.freshest = p;
      this.freshestJws = jws;
    }
    return null;
  }

  /** Emits onStale/onFresh on a change and re-arms the timer for the next deadline. */
  check(): void {
    if (this.options.closed()) return;
    const until = this.freshUntil();
    const stale = Date.now() >= until;
    clearTimeout(this.timer);
    if (!stale && Number.isFinite(until)) {
      // setTimeout holds at most 2^31-1 ms; a later deadline is simply re-checked then.
      this.timer = setTimeout(() => this.check(), Math.min(until - Date.now() + 5, 2 ** 31 - 1));
    }
    if (stale === this.stale) return;
    this.stale = stale;
    const state = this.state();
    this.options.notify(stale ? this.staleListeners : this.freshListeners, (listener) => listener(state));
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private freshUntil(): number {
    const max = this.options.maxStalenessMs;
    const proof = this.freshest;
    if (!proof) return max === undefined ? Number.POSITIVE_INFINITY : this.startedAt + max;
    // A proof issued "in the future" (clock skew) counts from now, never longer than its exp.
    const issued = Math.min(proof.iat * 1000, Date.now());
    return Math.min(proof.exp * 1000, max === undefined ? Number.POSITIVE_INFINITY : issued + max);
  }
}
