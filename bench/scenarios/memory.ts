/**
 * §7 Memory: the isolate's heap while many 64 KiB keys are hot, showing the edge's byte-bounded
 * LRU holds. An edge worker with MEMORY_CACHE_BYTES = budget serves every key of a set larger
 * than the budget, pass after pass; after each pass the bench reads the isolate's heap through
 * the inspector (a heap snapshot collects garbage first; ArrayBuffer bodies count as backing
 * store). Growth over the idle baseline must stay within the budget.
 */
import { type BenchContext, probe } from "../lib/context";
import { benchDocument } from "../lib/document";
import { type HeapUsage, InspectorSession } from "../lib/inspector";
import { runLoad } from "../lib/load";
import type { Cell, Section } from "../lib/report";
import { progress } from "../lib/report";
import { configPath, type EdgeMiniflare } from "../lib/stacks";

const MiB = 1024 * 1024;
const VALUE_BYTES = 64 * 1024;

function heapTotal(h: HeapUsage): number {
  return h.usedBytes + h.backingStoreBytes;
}

export async function memorySection(ctx: BenchContext, mf: EdgeMiniflare): Promise<Section> {
  const { memoryKeys, memoryBudgetBytes, memoryPasses } = ctx.sizes;
  const base = mf.urls[mf.edgeMemoryBench] as string;
  const keys = Array.from({ length: memoryKeys }, (_, i) => `bench/mem/k${i}`);
  const body = new TextEncoder().encode(benchDocument(VALUE_BYTES));
  await mf.seeder.configs(keys.map((key) => ({ key, version: 1, body })));

  const session = await InspectorSession.connect(
    `ws://127.0.0.1:${mf.inspectorPort}/core:user:${mf.edgeMemoryBench}`,
  );
  const samples: Array<{ stage: string; heap: HeapUsage }> = [];
  const sample = async (stage: string) => {
    const heap = await session.heapUsage();
    samples.push({ stage, heap });
    progress(
      "memory",
      stage,
      `heap ${(heap.usedBytes / MiB).toFixed(1)} MiB + buffers ${(heap.backingStoreBytes / MiB).toFixed(1)} MiB`,
    );
  };
  try {
    await probe(`${base}/healthz`);
    await sample("baseline (idle)");
    for (let pass = 1; pass <= memoryPasses; pass++) {
      let next = 0;
      const result = await runLoad({
        url: base,
        connections: 8,
        amount: keys.length,
        tool: "autocannon",
        nextPath: () => configPath(keys[next++ % keys.length] as string),
      });
      if (result.errors > 0) throw new Error(`pass ${pass}: ${result.errors} failed requests`);
      await sample(`after pass ${pass} over ${keys.length} keys`);
    }
  } finally {
    session.close();
  }

  // Which tier answers now: the most recent keys should be in memory, the oldest evicted.
  const recent = await probe(`${base}${configPath(keys[keys.length - 1] as string)}`);
  const oldest = await probe(`${base}${configPath(keys[0] as string)}`);
  const baseline = samples[0] ? heapTotal(samples[0].heap) : 0;
  const peakGrowth = Math.max(...samples.map((s) => heapTotal(s.heap) - baseline));
  const baselineBuffers = samples[0]?.heap.backingStoreBytes ?? 0;
  const peakBufferGrowth = Math.max(...samples.map((s) => s.heap.backingStoreBytes - baselineBuffers));
  const rows: Cell[][] = samples.map((s) => [
    s.stage,
    s.heap.usedBytes / MiB,
    s.heap.backingStoreBytes / MiB,
    (heapTotal(s.heap) - baseline) / MiB,
  ]);
  const dataMiB = (memoryKeys * VALUE_BYTES) / MiB;
  return {
    id: "memory",
    title: `7. Memory: ${memoryKeys} keys × 64 KiB through a ${memoryBudgetBytes / MiB} MiB isolate cache`,
    method:
      `Plain Miniflare, edge worker with MEMORY_CACHE_BYTES=${memoryBudgetBytes}. ${memoryKeys} keys of 64 KiB ` +
      `(${dataMiB.toFixed(1)} MiB in all, more than the budget) requested once each per pass, ${memoryPasses} passes ` +
      "(autocannon, 8 connections). Heap read through workerd's inspector after a heap snapshot (which collects garbage): " +
      "JS heap used + ArrayBuffer backing store. The LRU's own byte count is not exposed by the edge; the heap is the outside view.",
    columns: ["stage", "JS heap MiB", "buffers MiB", "growth over baseline MiB"],
    rows,
    targets: [
      {
        name: "isolate cache never exceeds its byte bound",
        // The budget charges config bytes (ArrayBuffers) plus a per-entry estimate; the JS objects
        // around them are reported beside it, not judged, since the runtime's own warm-up lands there too.
        met: peakBufferGrowth <= memoryBudgetBytes,
        detail:
          `config buffers grew ${(peakBufferGrowth / MiB).toFixed(1)} MiB (whole heap ${(peakGrowth / MiB).toFixed(1)} MiB) ` +
          `for a ${(memoryBudgetBytes / MiB).toFixed(0)} MiB budget while ${dataMiB.toFixed(1)} MiB were served`,
      },
    ],
    notes: [
      `After the passes the newest key answers with Cache-Status "${recent.cacheStatus}", the oldest with "${oldest.cacheStatus}".`,
    ],
    raw: { samples, recent: recent.cacheStatus, oldest: oldest.cacheStatus, budget: memoryBudgetBytes },
  };
}
