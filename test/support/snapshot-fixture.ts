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

/** The first key of a JSON key list from the test secrets (SIGNING_KEYS, TOKEN_KEYS). */
export function firstKey(json: string, what: string): PrivateJwk {
  const keys = JSON.parse(json) as PrivateJwk[];
  const key = keys[0];
  if (key === undefined) throw new Error(`no ${what} key in the test secrets`);
  return key;
}

import { uniqueNamespace } from "./names";

export { uniqueNamespace };

export const signingKeyOf = (env: FixtureEnv): PrivateJwk => firstKey(env.SIGNING_KEYS, "signing");
export const tokenKeyOf = (env: FixtureEnv): PrivateJwk => firstKey(env.TOKEN_KEYS, "read-token");

/** The head record that makes `snapshot` the live version (optionally with a rollout). */
export function headOf(snapshot: Snapshot, rollout: RolloutHead | null = null, deleted = false): HeadRecord {
  return {
    v: 1,
    key: snapshot.meta.key,
    version: snapshot.meta.version,
    etag: snapshot.meta.etag,
    publishedAt: snapshot.meta.publishedAt,
    deleted,
    rollout,
  };
}

/** A rollout's `candidate` member for a published snapshot. */
export function candidateOf(snapshot: Snapshot): RolloutHead["candidate"] {
  return { version: snapshot.meta.version, etag: snapshot.meta.etag, publishedAt: snapshot.meta.publishedAt };
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
  const jwk = signingKeyOf(env);
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
  if (options.only !== "snapshot") await writeHead(env, headOf(snapshot, options.rollout ?? null));
  return snapshot;
}

export async function writeHead(env: FixtureEnv, head: HeadRecord): Promise<void> {
  await env.CONFIGS.put(kvKeys.head(head.key), JSON.stringify(head));
}

/** Tombstones a key the way the origin's DELETE does. */
export async function deleteFixture(env: FixtureEnv, snapshot: Snapshot): Promise<void> {
  await writeHead(env, headOf(snapshot, null, true));
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
  return mintReadToken(tokenKeyOf(env), {
    scope,
    ttlSeconds: options.ttlSeconds ?? 3600,
    sub: "test",
    ...(options.nowSeconds === undefined ? {} : { nowSeconds: options.nowSeconds }),
  });
}

/** A public namespace of its own with one published key `<namespace>/svc/conf` (v1 of `content`). */
export async function publicConfig(
  env: FixtureEnv,
  options: { prefix?: string; settings?: Partial<NamespaceSettings>; content?: unknown } = {},
): Promise<{ namespace: string; key: string; snapshot: Snapshot }> {
  const namespace = uniqueNamespace(options.prefix);
  await putNamespaceSettings(env, namespace, { visibility: "public", ...options.settings });
  const key = `${namespace}/svc/conf`;
  const snapshot = await publishFixture(env, { key, content: options.content ?? { v: 1 } });
  return { namespace, key, snapshot };
}

export interface RolloutFixture {
  key: string;
  stable: Snapshot;
  candidate: Snapshot;
}

/** v1 live, v2 a candidate rolled out as `rollout` says (its startedAt defaults to now). */
export async function rolloutFixture(
  env: FixtureEnv,
  rollout: Omit<RolloutHead, "candidate" | "startedAt"> & { startedAt?: number },
  settings: Partial<NamespaceSettings> = { visibility: "public" },
): Promise<RolloutFixture> {
  const namespace = uniqueNamespace("ro");
  await putNamespaceSettings(env, namespace, settings);
  const key = `${namespace}/svc/flags`;
  const stable = await publishFixture(env, { key, content: { v: 1 } });
  const candidate = await publishFixture(env, { key, version: 2, content: { v: 2 }, only: "snapshot" });
  await writeHead(
    env,
    headOf(stable, { candidate: candidateOf(candidate), startedAt: Date.now(), ...rollout }),
  );
  return { key, stable, candidate };
}
