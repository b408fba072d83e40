/**
 * Writes KV records exactly as the origin does (core `buildSnapshot`/`encodeSnapshot`, snapshot
 * first, then head), signed with the run's test SIGNING_KEYS, so edge tests run against real KV
 * without the origin. Also mints read tokens with the test TOKEN_KEYS.
 */
import {
  buildSnapshot,
  encodeSnapshot,
  type HeadRecord,
  importSigningKey,
  kvKeys,
  mintReadToken,
  type NamespaceSettings,
  type PrivateJwk,
  type RolloutHead,
  type Snapshot,
  utf8Bytes,
} from "../../core";

/** The bindings fixtures need: KV plus the run's secrets (vitest.config.ts adds them). */
export interface FixtureEnv {
  CONFIGS: KVNamespace;
  SIGNING_KEYS: string;
  TOKEN_KEYS: string;
  PUBLIC_JWKS: string;
  PURGE_SECRET: string;
  ADMIN_JWT_SECRET: string;
}

function firstKey(json: string, what: string): PrivateJwk {
  const keys = JSON.parse(json) as PrivateJwk[];
  const key = keys[0];
  if (key === undefined) throw new Error(`no ${what} key in the test secrets`);
  return key;
}

/** A namespace no other test uses, so tests sharing KV and the Cache API never collide. */
export function uniqueNamespace(prefix = "t"): string {
  return `${prefix}${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
}

export interface PublishOptions {
  key: string;
  version?: number;
  /** A JSON value (serialised) or the exact bytes/text to publish. */
  content?: unknown;
  raw?: string | Uint8Array;
  publishedAt?: number;
  rollout?: RolloutHead | null;
  /** Write only the snapshot (no head), or only the head (no snapshot). */
  only?: "snapshot" | "head";
}

/** Publishes one version: snapshot record, then the head pointing at it. */
export async function publishFixture(env: FixtureEnv, options: PublishOptions): Promise<Snapshot> {
  const jwk = firstKey(env.SIGNING_KEYS, "signing");
  const version = options.version ?? 1;
  const body =
    options.raw instanceof Uint8Array
      ? options.raw
      : utf8Bytes(options.raw ?? JSON.stringify(options.content ?? { version }));
  const snapshot = await buildSnapshot({
    key: options.key,
    version,
    body,
    publishedAt: options.publishedAt ?? Date.now(),
    signingKey: await importSigningKey(jwk),
    kid: jwk.kid,
  });
  if (options.only !== "head") {
    await env.CONFIGS.put(kvKeys.snapshot(options.key, version), encodeSnapshot(snapshot));
  }
  if (options.only !== "snapshot") {
    await writeHead(env, {
      v: 1,
      key: options.key,
      version,
      etag: snapshot.meta.etag,
      publishedAt: snapshot.meta.publishedAt,
      deleted: false,
      rollout: options.rollout ?? null,
    });
  }
  return snapshot;
}

export async function writeHead(env: FixtureEnv, head: HeadRecord): Promise<void> {
  await env.CONFIGS.put(kvKeys.head(head.key), JSON.stringify(head));
}

/** Tombstones a key the way the origin's DELETE does. */
export async function deleteFixture(env: FixtureEnv, snapshot: Snapshot): Promise<void> {
  await writeHead(env, {
    v: 1,
    key: snapshot.meta.key,
    version: snapshot.meta.version,
    etag: snapshot.meta.etag,
    publishedAt: snapshot.meta.publishedAt,
    deleted: true,
    rollout: null,
  });
}

export async function putNamespaceSettings(
  env: FixtureEnv,
  namespace: string,
  settings: Partial<NamespaceSettings>,
): Promise<void> {
  await env.CONFIGS.put(kvKeys.namespace(namespace), JSON.stringify(settings));
}

export async function readTokenFor(
  env: FixtureEnv,
  scope: string,
  options: { ttlSeconds?: number; nowSeconds?: number } = {},
): Promise<string> {
  return mintReadToken(firstKey(env.TOKEN_KEYS, "read-token"), {
    scope,
    ttlSeconds: options.ttlSeconds ?? 3600,
    sub: "test",
    ...(options.nowSeconds === undefined ? {} : { nowSeconds: options.nowSeconds }),
  });
}
