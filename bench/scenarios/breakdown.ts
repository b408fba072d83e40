/**
 * §1b Where the edge's hot-path time goes: the same 4 KiB answer through one more layer of the
 * edge at a time, all in one Miniflare process, A/B rounds over every variant:
 * bare worker → Hono router → + requestContext (request id, log line) → real edge without its
 * log line → real edge. The differences between neighbours are the cost of each layer.
 */
import { compareVariants, type Variant, type VariantSummary } from "../lib/compare";
import { type BenchContext, probe } from "../lib/context";
import type { Cell, Section } from "../lib/report";
import { configPath, type EdgeMiniflare, HOT_KEY } from "../lib/stacks";
import { ratio, round } from "../lib/stats";

const LAYERS = [
  { worker: "bare", what: "bare worker (plain fetch handler)" },
  { worker: "hono-bare", what: "+ Hono router" },
  { worker: "hono-context", what: "+ requestContext (request id, JSON log line)" },
  { worker: "edge-nolog", what: "real edge, log line off" },
  { worker: "edge", what: "real edge" },
] as const;

export async function breakdownSection(ctx: BenchContext, mf: EdgeMiniflare): Promise<Section> {
  const url = (worker: string) => `${mf.urls[worker]}${configPath(HOT_KEY)}`;
  const etags = new Map<string, string>();
  for (const layer of LAYERS) {
    const first = await probe(url(layer.worker));
    if (first.status !== 200 || !first.etag) throw new Error(`${layer.worker}: GET answered ${first.status}`);
    etags.set(layer.worker, first.etag);
  }
  const results = new Map<string, VariantSummary>();
  // A quick run measures the 304 (the fleet's common case) only.
  const conditions = ctx.quick ? (["304"] as const) : (["200", "304"] as const);
  for (const condition of conditions) {
    const variants: Variant[] = LAYERS.map(
      (layer): Variant => ({
        label: `${layer.worker} ${condition}`,
        url: url(layer.worker),
        headers: condition === "304" ? { "If-None-Match": etags.get(layer.worker) ?? "" } : {},
        cpuPids: mf.pids,
      }),
    );
    const summaries = await compareVariants(variants, {
      section: "breakdown",
      rounds: ctx.sizes.rounds,
      durationS: ctx.sizes.breakdownDurationS,
      connections: ctx.sizes.connections,
      tool: ctx.tool,
      warmupS: ctx.sizes.warmupS,
    });
    for (const [label, summary] of summaries) results.set(label, summary);
  }
  const rows: Cell[][] = [];
  for (const condition of ["200", "304"] as const) {
    const bare = results.get(`bare ${condition}`);
    for (const layer of LAYERS) {
      const r = results.get(`${layer.worker} ${condition}`);
      if (!r || !bare) continue;
      // workerd CPU per request above the bare worker: what this stack of layers costs.
      const extraUs = r.cpuUs !== null && bare.cpuUs !== null ? round(r.cpuUs - bare.cpuUs, 0) : null;
      rows.push([
        `${condition}: ${layer.what}`,
        r.rps,
        r.p50,
        r.p99,
        ratio(r.rps, bare.rps),
        r.cpuUs,
        extraUs,
      ]);
    }
  }
  return {
    id: "breakdown",
    title: "1b. Hot-path cost breakdown (plain Miniflare, 4 KiB)",
    method:
      `${ctx.tool}, ${ctx.sizes.connections} connections, ${ctx.sizes.breakdownDurationS} s per run, ` +
      `${ctx.sizes.rounds} rounds over all five variants (bench/variants/), medians. "CPU µs/req" is the workerd ` +
      "process's CPU time (/proc utime+stime) during the run divided by the requests served: it moves far less than req/s " +
      "when other work shares the CPUs (though a starved process also pays more per request).",
    columns: ["variant", "req/s", "p50 ms", "p99 ms", "req/s vs bare", "CPU µs/req", "CPU µs/req over bare"],
    rows,
    targets: [],
    notes: [],
    raw: Object.fromEntries(results),
  };
}
