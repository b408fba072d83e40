/**
 * Plain Miniflare runs: one `new Miniflare({ workers: [...] })` (one workerd process) hosting the
 * edge bundle and the bare worker side by side, each on its own 127.0.0.1 port through
 * `unsafeDirectSockets`, KV and Cache API persisted under the run's temp dir like `wrangler dev`.
 * Also a KV-only Miniflare used to seed a `--persist-to` dir before `wrangler dev` starts.
 */

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { buildSync } from "esbuild";
import { Miniflare, type WorkerOptions } from "miniflare";
import { ownWorkerdPids } from "./cpu";
import { allocatePort, allocatePorts } from "./ports";
import type { KvWriter } from "./seed";
import { REPO_ROOT } from "./wrangler";

export const KV_NAMESPACE_ID = "fleetconf-configs-local";
const COMPATIBILITY_DATE = "2026-04-26";

/** Bundles a worker entry the way the workers vitest projects do (esbuild, ESM, workerd conditions). */
export function bundleWorker(entry: string, outfile: string, root: string = REPO_ROOT): string {
  buildSync({
    entryPoints: [join(root, entry)],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    // "browser" first, as wrangler and vitest.config.ts do: object-hash (flagd-core) has a self-contained browser build.
    mainFields: ["browser", "module", "main"],
    external: ["cloudflare:*", "node:*"],
    outfile,
    logLevel: "error",
  });
  return outfile;
}

export interface MiniflareWorkerSpec {
  name: string;
  scriptPath: string;
  bindings?: Record<string, string>;
  kv?: boolean;
  /** Anything else of the worker's Miniflare options (Durable Objects, service bindings). */
  extra?: Partial<WorkerOptions>;
}

export interface MiniflareStack {
  urls: Record<string, string>;
  inspectorPort: number;
  /** The workerd process(es) hosting every worker of this stack, for CPU accounting. */
  pids(): number[];
  kv(workerName: string): Promise<KvWriter>;
  dispose(): Promise<void>;
}

export async function startMiniflare(
  specs: readonly MiniflareWorkerSpec[],
  persistDir: string,
  logSink: (line: string) => void,
): Promise<MiniflareStack> {
  mkdirSync(persistDir, { recursive: true });
  const ports = await allocatePorts(specs.length);
  const [entryPort, inspectorPort] = await allocatePorts(2);
  const urls: Record<string, string> = {};
  const workers: WorkerOptions[] = specs.map((spec, i) => {
    const port = ports[i] as number;
    urls[spec.name] = `http://127.0.0.1:${port}`;
    return {
      name: spec.name,
      modules: true,
      scriptPath: spec.scriptPath,
      compatibilityDate: COMPATIBILITY_DATE,
      compatibilityFlags: ["nodejs_compat"],
      bindings: spec.bindings ?? {},
      ...(spec.kv ? { kvNamespaces: { CONFIGS: KV_NAMESPACE_ID } } : {}),
      unsafeDirectSockets: [{ host: "127.0.0.1", port }],
      ...(spec.extra ?? {}),
    } as WorkerOptions;
  });
  const mf = new Miniflare({
    workers,
    host: "127.0.0.1",
    port: entryPort,
    inspectorPort,
    kvPersist: join(persistDir, "kv"),
    cachePersist: join(persistDir, "cache"),
    durableObjectsPersist: join(persistDir, "do"),
    // Worker console output is read and dropped line by line (kept for the run log), as
    // `wrangler dev` reads it; the bench does not want it on the terminal.
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      for (const stream of [stdout, stderr]) {
        stream.setEncoding("utf8");
        stream.on("data", (chunk: string) => logSink(chunk));
      }
    },
  });
  await mf.ready;
  let disposed: Promise<void> | undefined;
  return {
    urls,
    inspectorPort: inspectorPort as number,
    pids: ownWorkerdPids,
    kv: async (workerName) => (await mf.getKVNamespace("CONFIGS", workerName)) as unknown as KvWriter,
    dispose: () => {
      disposed ??= mf.dispose();
      return disposed;
    },
  };
}

/** A KV-only Miniflare over `<persistTo>/v3/kv`, the layout `wrangler dev --persist-to` reads. */
export async function openPersistedKv(
  persistTo: string,
): Promise<{ kv: KvWriter; dispose(): Promise<void> }> {
  const mf = new Miniflare({
    modules: true,
    script: "export default { fetch() { return new Response(null, { status: 204 }); } }",
    compatibilityDate: COMPATIBILITY_DATE,
    host: "127.0.0.1",
    port: await allocatePort(),
    kvNamespaces: { CONFIGS: KV_NAMESPACE_ID },
    kvPersist: join(persistTo, "v3", "kv"),
  });
  await mf.ready;
  const kv = (await mf.getKVNamespace("CONFIGS")) as unknown as KvWriter;
  return { kv, dispose: () => mf.dispose() };
}
