/**
 * §3 Cold paths. Memory tier: the default edge on a hot key. Cache API tier: the same edge
 * configured with a 1-byte memory budget (nothing fits, so every request misses memory and is
 * answered from `caches.default`). KV tier: the default edge on distinct keys, each requested
 * exactly once, so each request misses memory and the Cache API and reads KV (head + snapshot).
 * All three with autocannon (the KV run needs a path per request, which wrk cannot do without
 * Lua), so the three rows are comparable with each other.
 */

import { describeRun } from "../lib/compare";
import { type BenchContext, probe } from "../lib/context";
import { cpuSecondsOf } from "../lib/cpu";
import { benchDocument } from "../lib/document";
import { type LoadOptions, type LoadResult, runLoad } from "../lib/load";
import type { Cell, Section, Target } from "../lib/report";
import { progress } from "../lib/report";
import { configPath, type EdgeMiniflare, HOT_KEY } from "../lib/stacks";
import { median } from "../lib/stats";

/** A load run with the workerd process's CPU time per request (it hosts KV and the Cache API too). */
async function loadWithCpu(mf: EdgeMiniflare, options: LoadOptions): Promise<LoadResult> {
  const pids = mf.pids();
  const before = cpuSecondsOf(pids);
  const result = await runLoad(options);
  const cpuUs = ((cpuSecondsOf(pids) - before) * 1e6) / Math.max(1, result.requests);
  return { ...result, cpuUsPerRequest: Math.round(cpuUs) };
}

interface TierRun {
  tier: string;
  connections: number;
  cacheStatus: string | null;
  runs: LoadResult[];
}

export async function coldSection(ctx: BenchContext, mf: EdgeMiniflare): Promise<Section> {
  const { connections, durationS, rounds, coldKeys } = ctx.sizes;
  const edge = mf.urls[mf.edge] as string;
  const noMemory = mf.urls[mf.edgeNoMemory] as string;
  const tiers: TierRun[] = [];

  // Memory and Cache API tiers: same key, alternating rounds, at 1 connection (latency) and at
  // the suite's connection count (throughput).
  const hotUrl = (base: string) => `${base}${configPath(HOT_KEY)}`;
  await probe(hotUrl(edge));
  await probe(hotUrl(noMemory));
  const memoryStatus = (await probe(hotUrl(edge))).cacheStatus;
  const cacheStatus = (await probe(hotUrl(noMemory))).cacheStatus;
  if (!cacheStatus?.includes("detail=cache")) {
    throw new Error(`the no-memory edge did not answer from the Cache API (Cache-Status: ${cacheStatus})`);
  }
  for (const conns of [1, connections]) {
    const memory: TierRun = { tier: "memory", connections: conns, cacheStatus: memoryStatus, runs: [] };
    const cache: TierRun = { tier: "Cache API", connections: conns, cacheStatus, runs: [] };
    for (let round = 1; round <= rounds; round++) {
      for (const [tier, base] of [
        [memory, edge],
        [cache, noMemory],
      ] as const) {
        const result = await loadWithCpu(mf, {
          url: hotUrl(base),
          connections: conns,
          durationS,
          tool: "autocannon",
        });
        tier.runs.push(result);
        progress("cold", `${tier.tier} ×${conns} r${round}`, describeRun(result));
      }
    }
    tiers.push(memory, cache);
  }

  // KV tier: fresh keys, each read once; a quarter one at a time, the rest with all connections.
  const run = Date.now().toString(36);
  const keys = Array.from({ length: coldKeys }, (_, i) => `bench/cold-${run}/k${i}`);
  const body = new TextEncoder().encode(benchDocument(4096));
  await mf.seeder.configs([...keys, `bench/cold-${run}/probe`].map((key) => ({ key, version: 1, body })));
  const kvProbe = await probe(`${edge}${configPath(`bench/cold-${run}/probe`)}`);
  if (!kvProbe.cacheStatus?.includes("detail=kv")) {
    throw new Error(`a first read did not come from KV (Cache-Status: ${kvProbe.cacheStatus})`);
  }
  let next = 0;
  const sequential = Math.max(1, Math.floor(keys.length / 4));
  for (const [conns, amount] of [
    [1, sequential],
    [connections, keys.length - sequential],
  ] as const) {
    const kv: TierRun = { tier: "KV", connections: conns, cacheStatus: kvProbe.cacheStatus, runs: [] };
    const result = await loadWithCpu(mf, {
      url: edge,
      connections: conns,
      amount,
      tool: "autocannon",
      nextPath: () => configPath(keys[next++ % keys.length] as string),
    });
    kv.runs.push(result);
    progress("cold", `KV ×${conns} (${amount} distinct keys)`, describeRun(result));
    tiers.push(kv);
  }

  const rows: Cell[][] = tiers.map((t) => [
    t.tier,
    t.connections,
    median(t.runs.map((r) => r.rps)),
    median(t.runs.map((r) => r.p50)),
    median(t.runs.map((r) => r.p99)),
    median(t.runs.map((r) => r.cpuUsPerRequest ?? Number.NaN)),
    t.runs.reduce((n, r) => n + r.errors, 0),
    t.cacheStatus,
  ]);
  const targets: Target[] = [];
  return {
    id: "cold",
    title: "3. Cold paths: memory miss → Cache API → KV (plain Miniflare, 4 KiB)",
    method:
      `autocannon at 1 connection (latency) and ${connections} (throughput). Memory and Cache API rows: ${durationS} s ` +
      `per run, ${rounds} alternating rounds, medians; the Cache API rows use a second edge worker with ` +
      "MEMORY_CACHE_BYTES=1 (nothing fits in isolate memory). KV rows: freshly seeded keys, each requested exactly " +
      `once (memory and Cache API both miss): ${Math.max(1, Math.floor(coldKeys / 4))} one at a time, the other ` +
      `${coldKeys - Math.max(1, Math.floor(coldKeys / 4))} with ${connections} connections. Cache-Status is sampled before each run to prove the tier. ` +
      "CPU µs/req is the whole workerd process, which also runs Miniflare's KV and Cache API emulations; autocannon " +
      "reports latency in whole milliseconds.",
    columns: [
      "tier",
      "connections",
      "req/s",
      "p50 ms",
      "p99 ms",
      "CPU µs/req",
      "errors",
      "Cache-Status sample",
    ],
    rows,
    targets,
    notes: [],
    raw: tiers,
  };
}
