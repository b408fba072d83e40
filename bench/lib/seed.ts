/**
 * Writes configs straight into KV in the contract's layout (core/snapshot.ts: `ns/{ns}`,
 * `snap/{key}/{version}` then `head/{key}`), signed with the run's snapshot key. Used where the
 * bench measures the edge alone (hot, size, cold, memory) or needs thousands of keys faster than
 * publishing them one by one; origin, propagation and fleet runs publish through the origin.
 */
import { importSigningKey, type PrivateJwk } from "../../core/jws";
import {
  buildSnapshot,
  encodeSnapshot,
  type HeadRecord,
  kvKeys,
  type NamespaceSettings,
} from "../../core/snapshot";

/** What the bench needs of a KV binding (Miniflare's proxy or a worker's binding). */
export interface KvWriter {
  put(key: string, value: string | ArrayBuffer): Promise<unknown>;
}

export interface SeedConfig {
  key: string;
  version: number;
  body: Uint8Array;
}

export class KvSeeder {
  private constructor(
    private readonly kv: KvWriter,
    private readonly signingKey: CryptoKey,
    private readonly kid: string,
  ) {}

  /** `signingKeys` is the SIGNING_KEYS secret: a JSON array whose first key signs. */
  static async create(kv: KvWriter, signingKeys: string): Promise<KvSeeder> {
    const jwks = JSON.parse(signingKeys) as PrivateJwk[];
    const first = jwks[0];
    if (!first) throw new Error("SIGNING_KEYS is empty");
    return new KvSeeder(kv, await importSigningKey(first), first.kid);
  }

  async namespace(name: string, settings: NamespaceSettings): Promise<void> {
    await this.kv.put(kvKeys.namespace(name), JSON.stringify(settings));
  }

  /** Snapshot first, then head: a head never points at a missing snapshot. */
  async config(config: SeedConfig): Promise<HeadRecord> {
    const publishedAt = Date.now();
    const snapshot = await buildSnapshot({
      key: config.key,
      version: config.version,
      body: config.body,
      publishedAt,
      signingKey: this.signingKey,
      kid: this.kid,
    });
    const encoded = encodeSnapshot(snapshot);
    await this.kv.put(
      kvKeys.snapshot(config.key, config.version),
      encoded.buffer.slice(encoded.byteOffset, encoded.byteOffset + encoded.byteLength) as ArrayBuffer,
    );
    const head: HeadRecord = {
      v: 1,
      key: config.key,
      version: config.version,
      etag: snapshot.meta.etag,
      publishedAt,
      deleted: false,
      rollout: null,
    };
    await this.kv.put(kvKeys.head(config.key), JSON.stringify(head));
    return head;
  }

  /** Seeds many configs, `parallel` at a time. */
  async configs(configs: readonly SeedConfig[], parallel = 32): Promise<void> {
    for (let i = 0; i < configs.length; i += parallel) {
      await Promise.all(configs.slice(i, i + parallel).map((c) => this.config(c)));
    }
  }
}

export const PUBLIC_BENCH_SETTINGS: NamespaceSettings = {
  visibility: "public",
  maxAge: 5,
  staleWhileRevalidate: 30,
  staleIfError: 86400,
};
