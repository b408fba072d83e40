/**
 * The config client's cache file (`cacheFile`, client/cache-file.ts for the format): the last
 * accepted snapshot with the trust roots that verify it and its freshness proof, so a restart
 * knows its version floor and can serve the last good config while the edge is down. The file is
 * only ever trusted through the pinned trust (client/trust.ts), never through keys of its own.
 */
import { cacheRecordOf, cacheRecordParts, readCacheFile, writeCacheFile } from "./cache-file";
import { ConfigClientError } from "./errors";
import type { FreshnessWatch } from "./freshness-watch";
import type { TrustStore } from "./trust";
import type { ConfigSnapshot } from "./types";
import { toConfigSnapshot, verifySnapshotParts } from "./verify";

export class SnapshotCache<T> {
  /** How many roots the file holds: a longer chain (rotation) is written again. */
  private persistedChain = 0;
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly key: string,
    private readonly trust: TrustStore,
    private readonly watch: FreshnessWatch,
    private readonly validate: ((value: unknown) => T) | undefined,
    /** Reports a problem that fails nothing: the file is ignored or not written. */
    private readonly report: (error: ConfigClientError) => void,
  ) {}

  /** The verified snapshot the file holds (marked stale), or undefined when there is none to trust. */
  async load(): Promise<ConfigSnapshot<T> | undefined> {
    // Once verified, the snapshot is kept even if its stored proof then cannot be checked.
    let verified: ConfigSnapshot<T> | undefined;
    try {
      const record = await readCacheFile(this.file);
      if (!record) return undefined;
      if (record.key !== this.key) throw new TypeError(`it holds ${record.key}, not ${this.key}`);
      // Only the pinned trust can vouch for the file: the roots it holds must chain to the pinned
      // root, and any JWKS it holds (older format) is ignored. A forged snapshot therefore fails
      // here and never becomes the version floor.
      const chainProblem = await this.trust.adoptChain(record.roots);
      if (chainProblem) throw new TypeError(chainProblem);
      this.persistedChain = this.trust.chain().length;
      const result = await verifySnapshotParts(
        cacheRecordParts(record),
        { key: this.key, minVersion: 0 },
        this.trust,
      );
      if (!result.ok) throw result.error;
      const typed = toConfigSnapshot(result.snapshot, true, this.validate);
      if (!typed.ok) throw typed.error;
      verified = typed.snapshot;
      if (record.freshness) {
        const problem = await this.watch.accept(
          record.freshness,
          typed.snapshot.version,
          typed.snapshot.digest,
        );
        if (problem) this.report(problem);
      }
      return verified;
    } catch (error) {
      const reason = error instanceof ConfigClientError ? `${error.code}: ${error.message}` : String(error);
      this.report(
        new ConfigClientError("cache_invalid", `ignoring cache file ${this.file}: ${reason}`, {
          cause: error,
        }),
      );
      return verified;
    }
  }

  /** True when the trust store accepted roots (rotation) the file does not hold yet. */
  rootsChanged(): boolean {
    return this.trust.chain().length !== this.persistedChain;
  }

  /** Queues an atomic write of the cache file; writes run one at a time, newest last. */
  persist(snapshot: ConfigSnapshot<T>): void {
    const chain = this.trust.chain();
    this.persistedChain = chain.length;
    // The proof is kept only when it names the snapshot written, so it re-verifies on load.
    const proof = this.watch.proofFor(snapshot.version);
    const record = cacheRecordOf(snapshot, { roots: chain, freshness: proof }, Date.now());
    this.writes = this.writes.then(() =>
      writeCacheFile(this.file, record).catch((error: unknown) => {
        this.report(
          new ConfigClientError("cache_write_failed", `cannot write ${this.file}: ${String(error)}`, {
            cause: error,
          }),
        );
      }),
    );
  }

  /** Resolves once every queued write has finished. */
  flushed(): Promise<void> {
    return this.writes;
  }
}
