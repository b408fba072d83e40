/**
 * The fleet agent: keeps FILE equal to the verified current config of one key and runs a hook
 * after each change. Everything about trust is the SDK's (client/): the agent only ever writes
 * bytes the SDK accepted, so content that failed verification never reaches FILE.
 *
 * State across restarts lives in the SDK's cache file, kept in the state directory (`--state-dir`),
 * never beside FILE, where an application loading every `*.json` of its config folder would read
 * it as config (DESIGN §8): it holds the last accepted snapshot with its signature, so at start
 * the agent (1) knows the version FILE holds and refuses anything older (a replay), and (2) if
 * the edge is down, keeps serving FILE unchanged instead of failing. Deleting it resets that floor.
 * The state file is only ever trusted through the pinned trust root (client/trust.ts), never
 * through keys of its own, so a forged one is ignored and sets no floor.
 *
 * Freeze detection: with `maxStalenessMs`, the SDK's onStale/onFresh become `config.stale` /
 * `config.fresh` log lines, the optional status file, and the exit status when the agent stops
 * while stale (EXIT_STALE), while FILE keeps the last good config.
 */
import { readdir, readFile, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import {
  type ConfigClient,
  type ConfigClientOptions,
  type ConfigSnapshot,
  createConfigClient,
  type FreshnessState,
} from "../../client";
import { isTempFileName, writeFileAtomic } from "../../client/cache-file";
import { DEFAULT_WAIT_SECONDS } from "../../client/client";
import { HookRunner, type LogFn } from "./hook";
import { type LocalApi, startLocalApi } from "./listen";

/** The state file of `key` in the state directory: `/` (never in a key segment) becomes `~`. */
export function stateFileOf(stateDir: string, key: string): string {
  return join(stateDir, `${key.replaceAll("/", "~")}.snapshot.json`);
}
/** Credentials the agent itself uses; a hook (a reload script) has no business inheriting them. */
const WITHHELD_FROM_HOOK = ["FLEETCONF_TOKEN", "FLEETCONF_READ_TOKEN"];
export const HOOK_GRACE_MS = 10_000;
/** Exit status of an agent stopped while stale: EX_TEMPFAIL (sysexits.h), "try again later". */
export const EXIT_STALE = 75;

export interface AgentOptions {
  client: ConfigClientOptions<unknown>;
  /** Absolute path of the file to keep current; without it the agent only serves `listen`. */
  out?: string;
  /** Serve the followed key on this loopback address (listen.ts). */
  listen?: { host: string; port: number };
  /** A local API shared by several agents in one process (several --key); not closed here. */
  api?: LocalApi;
  exec?: string;
  /** Absolute path of the state directory; the SDK cache file goes there (stateFileOf). */
  stateDir?: string;
  /** Absolute path of the SDK cache file, instead of one in `stateDir`. */
  cacheFile?: string;
  /** Permission bits of the written file (`--mode`); default OUT_FILE_MODE (0600). */
  mode?: number;
  env: Record<string, string | undefined>;
  hookGraceMs?: number;
  /** Absolute path of a JSON status file (fresh/stale, version, proof), rewritten atomically. */
  statusFile?: string;
}

export interface AgentResult {
  writes: number;
  hooks: number;
  /** True when the agent stopped while stale (no fresh proof within maxStalenessMs). */
  stale: boolean;
}

/** Removes temp files a killed writer of `file` left behind (names only this agent uses). */
export async function removeStaleTempFiles(file: string): Promise<string[]> {
  const dir = dirname(file);
  const base = basename(file);
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return [];
  }
  const stale = entries.filter((name) => isTempFileName(base, name));
  await Promise.all(stale.map((name) => rm(join(dir, name), { force: true })));
  return stale;
}

async function readIfExists(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return null;
    throw error;
  }
}

/**
 * FILE's permission bits unless --mode says otherwise: owner only, since a config often holds
 * credentials (issue 14); a service running as another user gets a group with --mode 0640.
 */
export const OUT_FILE_MODE = 0o600;

export async function runAgent(options: AgentOptions, signal: AbortSignal, log: LogFn): Promise<AgentResult> {
  const cacheFile =
    options.cacheFile ?? (options.stateDir ? stateFileOf(options.stateDir, options.client.key) : undefined);
  if (cacheFile === undefined) throw new TypeError("runAgent needs stateDir or cacheFile");
  const out = options.out;
  for (const file of out === undefined ? [cacheFile] : [out, cacheFile]) {
    const removed = await removeStaleTempFiles(file);
    if (removed.length > 0) log("warn", "agent.cleanup", { removed });
  }
  const hookEnv = Object.fromEntries(
    Object.entries(options.env).filter(([name]) => !WITHHELD_FROM_HOOK.includes(name)),
  );
  // The hook's result reaches the origin as Config-Client-Status on the next poll (DESIGN §8):
  // exit 0 → applied, non-zero → rejected, which a health-gated rollout aborts on.
  let reportTo: ConfigClient<unknown> | null = null;
  // The bytes the hook last succeeded on (this process): a new version with the same bytes (an
  // abort restoring them) needs no write and no hook, and is as applied as they were.
  let appliedBytes: Buffer | null = null;
  const hookedBytes = new Map<number, Buffer>();
  const hook = options.exec
    ? new HookRunner(options.exec, log, hookEnv, (run, ok, detail) => {
        const bytes = hookedBytes.get(run.version) ?? null;
        for (const version of hookedBytes.keys()) if (version <= run.version) hookedBytes.delete(version);
        if (ok) {
          appliedBytes = bytes;
          reportTo?.reportApplied(run.version);
        } else {
          appliedBytes = null;
          reportTo?.reportRejected(detail, run.version);
        }
      })
    : null;
  const key = options.client.key;
  let writes = 0;
  let latest: ConfigSnapshot<unknown> | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  // Writes run one at a time, in the order versions were accepted.
  let queue: Promise<void> = Promise.resolve();

  async function apply(snapshot: ConfigSnapshot<unknown>): Promise<void> {
    if (latest !== snapshot || signal.aborted) return;
    const fields = { key, version: snapshot.version, etag: snapshot.etag, stale: snapshot.stale };
    if (out === undefined) {
      // Served from memory only (--listen without --out): the hook still runs once per version.
      if (snapshot.stale) return;
      hook?.trigger({ key, version: snapshot.version, file: "" });
      return;
    }
    const existing = await readIfExists(out).catch(() => null);
    if (existing?.equals(snapshot.bytes)) {
      log("info", "config.current", { ...fields, file: out });
      if (!hook || appliedBytes?.equals(snapshot.bytes)) reportTo?.reportApplied(snapshot.version);
      writeStatus(client.freshness());
      return;
    }
    try {
      await writeFileAtomic(out, snapshot.bytes, options.mode ?? OUT_FILE_MODE);
    } catch (error) {
      log("error", "config.write_failed", { ...fields, file: out, error: (error as Error).message });
      clearTimeout(retryTimer);
      retryTimer = setTimeout(() => enqueue(snapshot), options.client.intervalMs ?? 5000);
      return;
    }
    writes++;
    log("info", "config.written", { ...fields, file: out, bytes: snapshot.bytes.length });
    writeStatus(client.freshness());
    // Without a hook, a written file is an applied version.
    if (hook) {
      hookedBytes.set(snapshot.version, Buffer.from(snapshot.bytes));
      hook.trigger({ key, version: snapshot.version, file: out });
    } else reportTo?.reportApplied(snapshot.version);
  }

  function enqueue(snapshot: ConfigSnapshot<unknown>): void {
    latest = snapshot;
    queue = queue.then(() => apply(snapshot));
  }

  const ownApi: LocalApi | null =
    !options.api && options.listen ? await startLocalApi(options.listen, [key]) : null;
  const api: LocalApi | null = options.api ?? ownApi;
  const client = createConfigClient({
    ...options.client,
    cacheFile,
    warn: (message) => log("warn", "client.trust", { key, message }),
  });
  reportTo = client;
  let statusWrites: Promise<void> = Promise.resolve();
  function writeStatus(state: FreshnessState): void {
    const file = options.statusFile;
    if (!file) return;
    const status = {
      key,
      state: state.stale ? "stale" : "fresh",
      version: state.version,
      freshUntil: Number.isFinite(state.freshUntil) ? new Date(state.freshUntil).toISOString() : null,
      proof: state.proof,
      updatedAt: new Date().toISOString(),
    };
    statusWrites = statusWrites.then(() =>
      writeFileAtomic(file, `${JSON.stringify(status)}\n`, 0o644).catch((error: unknown) =>
        log("error", "agent.status_write_failed", { file, error: (error as Error).message }),
      ),
    );
  }
  client.onStale((state) => {
    log("warn", "config.stale", {
      key,
      version: state.version,
      lastProofAt: state.proof ? new Date(state.proof.iat * 1000).toISOString() : null,
      message: "no fresh Config-Freshness proof can be had; keeping the last good config",
    });
    writeStatus(state);
  });
  client.onFresh((state) => {
    log("info", "config.fresh", { key, version: state.version });
    writeStatus(state);
  });
  client.onChange((snapshot) => {
    // Verified by the SDK: served locally at once, written to the file in order.
    api?.update(snapshot);
    enqueue(snapshot);
  });
  client.onError((error) => {
    log(error.code === "cache_invalid" ? "warn" : "error", "client.error", {
      key,
      code: error.code,
      ...(error.status === undefined ? {} : { status: error.status }),
      message: error.message,
    });
  });
  log("info", "agent.start", {
    key,
    edge: options.client.edge,
    ...(out === undefined ? {} : { file: out }),
    ...(api ? { listen: api.address } : {}),
    cache: cacheFile,
    intervalMs: options.client.intervalMs,
    longPoll: options.client.longPoll !== false,
    ...(options.client.longPoll === false
      ? {}
      : { waitSeconds: options.client.waitSeconds ?? DEFAULT_WAIT_SECONDS }),
    hook: options.exec !== undefined,
  });

  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
  log("info", "agent.stopping", { key });
  const stale = client.freshness().stale;
  await client.close();
  await ownApi?.close();
  clearTimeout(retryTimer);
  await queue;
  await statusWrites;
  await hook?.idle(options.hookGraceMs ?? HOOK_GRACE_MS);
  log("info", "agent.stop", { key, writes, hooks: hook?.runs ?? 0, stale });
  return { writes, hooks: hook?.runs ?? 0, stale };
}
