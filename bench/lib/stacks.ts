/**
 * The servers a run measures, each started by the bench on its own ports and torn down by PID:
 * - a plain Miniflare process hosting the edge bundle (three configurations) and the bare worker;
 * - the edge and the bare worker under `wrangler dev`, one process each;
 * - the full stack (edge + origin under `wrangler dev`, shared KV and a private dev registry);
 * - nginx serving the same bytes as static files, when installed.
 */
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import type { BenchContext } from "./context";
import { groupPids } from "./cpu";
import { benchDocument, SIZE_LABELS, type SizeLabel } from "./document";
import { bundleWorker, type MiniflareStack, openPersistedKv, startMiniflare } from "./miniflare";
import { allocatePort } from "./ports";
import { startProcess, waitForHttp } from "./processes";
import { KvSeeder, type KvWriter, PUBLIC_BENCH_SETTINGS } from "./seed";
import { type DevWorker, REPO_ROOT, startWranglerDev } from "./wrangler";

export const BENCH_NAMESPACE = "bench";
export const HOT_KEY = "bench/hot/4k";
export const sizeKey = (label: SizeLabel) => `bench/size/${label}`;

export const configPath = (key: string) => `/v1/configs/${key}`;

/** The configs every edge-only stack starts with: the 4 KiB hot key and one key per size. */
export async function seedBaseline(kv: KvWriter, signingKeys: string): Promise<KvSeeder> {
  const seeder = await KvSeeder.create(kv, signingKeys);
  await seeder.namespace(BENCH_NAMESPACE, PUBLIC_BENCH_SETTINGS);
  const encoder = new TextEncoder();
  await seeder.config({ key: HOT_KEY, version: 1, body: encoder.encode(benchDocument(4096)) });
  for (const [label, bytes] of Object.entries(SIZE_LABELS)) {
    await seeder.config({
      key: sizeKey(label as SizeLabel),
      version: 1,
      body: encoder.encode(benchDocument(bytes)),
    });
  }
  return seeder;
}

export interface EdgeMiniflare extends MiniflareStack {
  seeder: KvSeeder;
  /** Worker names: the edge as configured by default, with memory off, with the memory-bench budget. */
  readonly edge: string;
  readonly bare: string;
  readonly edgeNoMemory: string;
  readonly edgeMemoryBench: string;
  /** The edge with fleet recording on, its ORIGIN binding a sink that stores nothing (§1c). */
  readonly edgeRecording: string;
  /** The sink edgeRecording's batches go to (bench/fleet-sink, `GET /count`). */
  readonly fleetSink: string;
  /** Log lines the workers printed (counted, not kept). */
  logLines(): number;
}

export async function startEdgeMiniflare(ctx: BenchContext): Promise<EdgeMiniflare> {
  const build = join(REPO_ROOT, ".build", "bench");
  const root = ctx.sourceRoot;
  const edgeScript = bundleWorker("worker/index.ts", join(build, "edge.js"), root);
  const bareScript = bundleWorker("bench/bare-worker/index.ts", join(build, "bare.js"), root);
  const variant = (name: string) =>
    bundleWorker(`bench/variants/${name}.ts`, join(build, `${name}.js`), root);
  const edgeBindings = {
    PUBLIC_JWKS: ctx.secrets.PUBLIC_JWKS,
    PURGE_SECRET: ctx.secrets.PURGE_SECRET,
    BUILD_VERSION: "bench",
  };
  let lines = 0;
  const stack = await startMiniflare(
    [
      {
        name: "edge",
        scriptPath: edgeScript,
        kv: true,
        bindings: { ...edgeBindings, MEMORY_CACHE_BYTES: "33554432" },
      },
      { name: "bare", scriptPath: bareScript },
      // A 1-byte budget stores nothing, so every request goes past isolate memory.
      {
        name: "edge-nomem",
        scriptPath: edgeScript,
        kv: true,
        bindings: { ...edgeBindings, MEMORY_CACHE_BYTES: "1" },
      },
      {
        name: "edge-membench",
        scriptPath: edgeScript,
        kv: true,
        bindings: { ...edgeBindings, MEMORY_CACHE_BYTES: String(ctx.sizes.memoryBudgetBytes) },
      },
      // §1c: the edge sending its fleet batches to a sink that stores nothing (bench/fleet-sink).
      {
        name: "edge-rec",
        scriptPath: edgeScript,
        kv: true,
        bindings: { ...edgeBindings },
        extra: { serviceBindings: { ORIGIN: "fleet-sink" } },
      },
      {
        name: "fleet-sink",
        scriptPath: bundleWorker("bench/fleet-sink/index.ts", join(build, "fleet-sink.js"), root),
      },
      // The cost breakdown (scenarios/breakdown.ts): one layer of the edge at a time.
      { name: "hono-bare", scriptPath: variant("hono-bare") },
      { name: "hono-context", scriptPath: variant("hono-context") },
      { name: "edge-nolog", scriptPath: variant("edge-nolog"), kv: true, bindings: { ...edgeBindings } },
    ],
    ctx.dir("miniflare"),
    (chunk) => {
      for (let i = chunk.indexOf("\n"); i >= 0; i = chunk.indexOf("\n", i + 1)) lines++;
      keepWarnings(ctx.logFile, chunk);
    },
  );
  const seeder = await seedBaseline(await stack.kv("edge"), ctx.secrets.SIGNING_KEYS);
  return {
    ...stack,
    seeder,
    edge: "edge",
    bare: "bare",
    edgeNoMemory: "edge-nomem",
    edgeMemoryBench: "edge-membench",
    edgeRecording: "edge-rec",
    fleetSink: "fleet-sink",
    logLines: () => lines,
  };
}

/**
 * Keeps the workers' warnings and errors (lines with a `level`, uncaught exceptions) in the run's
 * workers.log; request lines are only counted, since writing them all would load the machine.
 */
export function keepWarnings(logFile: string, chunk: string): void {
  const kept = chunk
    .split("\n")
    .filter((line) => line.includes('"level":') || /exception|Error/.test(line))
    .join("\n");
  if (kept) appendFileSync(logFile, `${kept}\n`);
}

export interface WranglerPair {
  edge: DevWorker;
  bare: DevWorker;
  stop(): Promise<void>;
}

/** The edge and the bare worker under `wrangler dev`, KV seeded before the edge starts. */
export async function startWranglerPair(ctx: BenchContext): Promise<WranglerPair> {
  const dir = ctx.dir("wrangler-pair");
  const persistTo = join(dir, "state");
  // A private dev registry: in the shared one this edge would register as `fleetconf-edge` and
  // could capture the EDGE binding of someone else's `npm run dev` origin.
  const registry = join(dir, "registry");
  mkdirSync(registry, { recursive: true });
  const seeding = await openPersistedKv(persistTo);
  await seedBaseline(seeding.kv, ctx.secrets.SIGNING_KEYS);
  await seeding.dispose();
  const [edge, bare] = await Promise.all([
    startWranglerDev({
      root: ctx.sourceRoot,
      name: "edge",
      config: "wrangler.toml",
      persistTo,
      registry,
      envFile: ctx.edgeEnvFile,
      logFile: ctx.logFile,
    }),
    // Its own state dir: two workerd processes starting at once on one dir race for its SQLite locks.
    startWranglerDev({
      root: ctx.sourceRoot,
      name: "bare",
      config: "bench/bare-worker/wrangler.toml",
      persistTo: join(dir, "bare-state"),
      registry,
      logFile: ctx.logFile,
    }),
  ]);
  return { edge, bare, stop: async () => void (await Promise.all([edge.stop(), bare.stop()])) };
}

export interface FullStack {
  /** "wrangler dev" or "miniflare". */
  runtime: string;
  edge: { url: string };
  origin: { url: string };
  /** The processes serving both workers, where one runtime hosts them (Miniflare), for CPU per request. */
  pids?: () => number[];
  stop(): Promise<void>;
}

/** Edge + origin as `npm run dev` runs them: one KV, the origin purging through its EDGE binding. */
export async function startFullStack(ctx: BenchContext): Promise<FullStack> {
  const dir = ctx.dir("full-stack");
  const persistTo = join(dir, "state");
  const registry = join(dir, "registry");
  mkdirSync(registry, { recursive: true });
  const edge = await startWranglerDev({
    root: ctx.sourceRoot,
    name: "edge",
    config: "wrangler.toml",
    persistTo,
    registry,
    envFile: ctx.edgeEnvFile,
    logFile: ctx.logFile,
  });
  try {
    const origin = await startWranglerDev({
      root: ctx.sourceRoot,
      name: "origin",
      config: "origin/wrangler.toml",
      persistTo,
      registry,
      envFile: ctx.originEnvFile,
      logFile: ctx.logFile,
    });
    return {
      runtime: "wrangler dev",
      edge,
      origin,
      stop: async () => void (await Promise.all([edge.stop(), origin.stop()])),
    };
  } catch (error) {
    await edge.stop();
    throw error;
  }
}

/**
 * Edge + origin in one plain Miniflare process (DESIGN §7's second way): the origin's Durable
 * Objects and EDGE service binding come from its wrangler config, so this stays in step with it;
 * both bundled from the run's source snapshot. Several times the throughput of `wrangler dev`
 * here, which lets the fleet section reach thousands of clients.
 */
export async function startMiniflareFullStack(ctx: BenchContext): Promise<FullStack> {
  const build = join(REPO_ROOT, ".build", "bench");
  const root = ctx.sourceRoot;
  const edgeScript = bundleWorker("worker/index.ts", join(build, "full-edge.js"), root);
  const originScript = bundleWorker("origin/index.ts", join(build, "full-origin.js"), root);
  const { workerOptions } = unstable_getMiniflareWorkerOptions(join(root, "origin", "wrangler.toml"));
  const vars = Object.fromEntries(
    Object.entries(workerOptions.bindings ?? {}).filter(
      (e): e is [string, string] => typeof e[1] === "string",
    ),
  );
  // The edge's [vars] from wrangler.toml too (HEAD_SOURCE, HEAD_REVALIDATE_MS, MAX_WAITERS, …), so
  // this stack runs the edge as `npm run dev` does rather than on the code's defaults.
  const edgeVars = Object.fromEntries(
    Object.entries(
      unstable_getMiniflareWorkerOptions(join(root, "wrangler.toml")).workerOptions.bindings ?? {},
    ).filter((e): e is [string, string] => typeof e[1] === "string"),
  );
  const stack = await startMiniflare(
    [
      {
        name: "fleetconf-edge",
        scriptPath: edgeScript,
        kv: true,
        bindings: {
          ...edgeVars,
          PUBLIC_JWKS: ctx.secrets.PUBLIC_JWKS,
          PURGE_SECRET: ctx.secrets.PURGE_SECRET,
          BUILD_VERSION: "bench",
        },
        // As in wrangler.toml: fleet sightings go to the origin (without it the edge records nothing).
        extra: { serviceBindings: { ORIGIN: "fleetconf-origin" } },
      },
      {
        name: "fleetconf-origin",
        scriptPath: originScript,
        kv: true,
        bindings: { ...vars, ...ctx.secrets },
        extra: {
          durableObjects: workerOptions.durableObjects ?? {},
          serviceBindings: workerOptions.serviceBindings ?? {},
        },
      },
    ],
    ctx.dir("miniflare-full"),
    (chunk) => keepWarnings(ctx.logFile, chunk),
  );
  return {
    runtime: "miniflare",
    edge: { url: stack.urls["fleetconf-edge"] as string },
    origin: { url: stack.urls["fleetconf-origin"] as string },
    pids: stack.pids,
    stop: () => stack.dispose(),
  };
}

export interface NginxServer {
  url: string;
  pids(): number[];
  stop(): Promise<void>;
}

/** nginx (one worker process, like one workerd isolate thread) serving the bench documents. */
export async function startNginx(ctx: BenchContext): Promise<NginxServer> {
  const dir = ctx.dir("nginx");
  const root = join(dir, "root");
  for (const [label, bytes] of Object.entries(SIZE_LABELS)) {
    for (const group of ["hot", "size"]) {
      mkdirSync(join(root, "v1", "configs", "bench", group), { recursive: true });
      writeFileSync(join(root, "v1", "configs", "bench", group, label), benchDocument(bytes));
    }
  }
  const port = await allocatePort();
  const conf = join(dir, "nginx.conf");
  writeFileSync(
    conf,
    `daemon off;
master_process off;
worker_processes 1;
error_log ${join(dir, "error.log")} warn;
pid ${join(dir, "nginx.pid")};
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp-body; proxy_temp_path ${dir}/tmp-proxy; fastcgi_temp_path ${dir}/tmp-fcgi;
  uwsgi_temp_path ${dir}/tmp-uwsgi; scgi_temp_path ${dir}/tmp-scgi;
  default_type application/json;
  etag on;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    location = /healthz { return 200 "ok"; }
  }
}
`,
  );
  const proc = startProcess("nginx", "nginx", ["-p", dir, "-c", conf], {
    cwd: dir,
    env: process.env,
    logFile: ctx.logFile,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/healthz`, 10_000, proc);
  return { url, pids: () => groupPids(proc.pid), stop: () => proc.stop() };
}
