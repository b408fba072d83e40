/**
 * The last good snapshot on disk, so a service restarted during an edge outage starts with the
 * config it had. Node-only: `node:fs/promises` and `node:path` are imported dynamically, and only
 * when a cache file is configured, so the rest of the SDK still runs in Workers and browsers.
 *
 * The record keeps the exact bytes plus the fields needed to verify them again on load (digest,
 * signature, version, ETag), the trust roots accepted after the pinned one (`roots`, re-verified
 * from the pinned root on load) and the newest `Config-Freshness` proof for that version. It never
 * holds keys that vouch for it: everything in it is verified against the pinned trust on load (an
 * older record's `jwks` member is ignored). Writes are atomic: a temp file in the same directory, flushed, then
 * renamed over the old one (rename(2) replaces atomically within one file system), so a reader
 * or a crash sees the old record or the new one, never half of one.
 */
import { fromBase64, toBase64 } from "../core/encoding";
import type { SnapshotParts } from "./verify";

type Fs = typeof import("node:fs/promises");
type Path = typeof import("node:path");

export const CACHE_FORMAT = "fleetconf-client-cache/1";

export interface CacheRecord {
  format: typeof CACHE_FORMAT;
  key: string;
  version: number;
  etag: string;
  digest: string;
  signature: string;
  /** Base64 of the exact body bytes. */
  body: string;
  /** Trust roots accepted after the pinned one, oldest first (raw; verified on load). */
  roots?: unknown[];
  /** The newest Config-Freshness proof for this version (verified on load). */
  freshness?: string;
  savedAt: number;
}

// Variable specifiers keep bundlers for Workers and browsers from trying to resolve Node modules.
const FS_MODULE = "node:fs/promises";
const PATH_MODULE = "node:path";

async function nodeModules(): Promise<{ fs: Fs; path: Path }> {
  const [fs, path] = await Promise.all([
    import(/* @vite-ignore */ FS_MODULE) as Promise<Fs>,
    import(/* @vite-ignore */ PATH_MODULE) as Promise<Path>,
  ]);
  return { fs, path };
}

/** Reads the cache file: null when there is none, the parsed record, or throws when corrupt. */
export async function readCacheFile(file: string): Promise<CacheRecord | null> {
  const { fs } = await nodeModules();
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return null;
    throw error;
  }
  return parseCacheRecord(JSON.parse(text));
}

export function parseCacheRecord(raw: unknown): CacheRecord {
  if (typeof raw !== "object" || raw === null) throw new TypeError("the cache file is not a JSON object");
  const r = raw as Record<string, unknown>;
  if (r.format !== CACHE_FORMAT) throw new TypeError(`unknown cache format ${JSON.stringify(r.format)}`);
  const strings = ["key", "etag", "digest", "signature", "body"] as const;
  for (const name of strings) {
    if (typeof r[name] !== "string") throw new TypeError(`the cache file has no ${name}`);
  }
  if (!Number.isSafeInteger(r.version) || (r.version as number) < 1) {
    throw new TypeError("the cache file has no valid version");
  }
  if (r.roots !== undefined && !Array.isArray(r.roots))
    throw new TypeError("the cache file's roots is not a list");
  if (r.freshness !== undefined && typeof r.freshness !== "string")
    throw new TypeError("the cache file's freshness is not a string");
  return {
    format: CACHE_FORMAT,
    key: r.key as string,
    version: r.version as number,
    etag: r.etag as string,
    digest: r.digest as string,
    signature: r.signature as string,
    body: r.body as string,
    ...(Array.isArray(r.roots) ? { roots: r.roots as unknown[] } : {}),
    ...(typeof r.freshness === "string" ? { freshness: r.freshness } : {}),
    savedAt: typeof r.savedAt === "number" ? r.savedAt : 0,
  };
}

/** The record as the parts of a response, for the same verification as a fresh answer. */
export function cacheRecordParts(record: CacheRecord): SnapshotParts {
  return {
    etag: record.etag,
    configVersion: String(record.version),
    contentDigest: record.digest,
    signature: record.signature,
    body: fromBase64(record.body),
  };
}

export function cacheRecordOf(
  snapshot: {
    key: string;
    version: number;
    etag: string;
    digest: string;
    signature: string;
    bytes: Uint8Array;
  },
  trust: { roots: unknown[]; freshness: string | null },
  nowMs: number,
): CacheRecord {
  return {
    format: CACHE_FORMAT,
    key: snapshot.key,
    version: snapshot.version,
    etag: snapshot.etag,
    digest: snapshot.digest,
    signature: snapshot.signature,
    body: toBase64(snapshot.bytes),
    ...(trust.roots.length > 0 ? { roots: trust.roots } : {}),
    ...(trust.freshness ? { freshness: trust.freshness } : {}),
    savedAt: nowMs,
  };
}

/** Writes `data` to `file` atomically (temp file in the same directory, fsync, rename). */
export async function writeFileAtomic(file: string, data: Uint8Array | string, mode = 0o600): Promise<void> {
  const { fs, path } = await nodeModules();
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${randomSuffix()}.tmp`);
  let handle: Awaited<ReturnType<Fs["open"]>> | undefined;
  try {
    // "wx": never follow or clobber something already at the temp name.
    handle = await fs.open(temp, "wx", mode);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(temp, file);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
}

export async function writeCacheFile(file: string, record: CacheRecord): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(record)}\n`);
}

function randomSuffix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Temp files a writer of `file` may have left behind if it was killed mid-write. */
export function isTempFileName(basename: string, candidate: string): boolean {
  return (
    candidate.startsWith(`.${basename}.`) &&
    candidate.length === basename.length + 18 &&
    /\.[0-9a-f]{12}\.tmp$/.test(candidate)
  );
}
