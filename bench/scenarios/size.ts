/**
 * §2 Size: 1 KiB, 64 KiB and 1 MiB configs, 200 and 304, edge and bare worker under plain
 * Miniflare. A 304 carries no body, so its cost should not depend on the config's size. All
 * 304 runs come first and every round visits every size, edge then bare: a run right after a
 * 1 MiB 200 run otherwise pays for the megabytes still draining from the previous one.
 */
import { compareVariants, type Variant, type VariantSummary } from "../lib/compare";
import { type BenchContext, probe } from "../lib/context";
import type { SizeLabel } from "../lib/document";
import type { Cell, Section, Target } from "../lib/report";
import { configPath, type EdgeMiniflare, sizeKey } from "../lib/stacks";
import { ratio } from "../lib/stats";

const LABELS: SizeLabel[] = ["1k", "64k", "1m"];

export async function sizeSection(ctx: BenchContext, mf: EdgeMiniflare): Promise<Section> {
  const targetsByName: Record<string, string> = { edge: mf.urls[mf.edge] as string };
  if (ctx.sizes.sizeWithBare) targetsByName.bare = mf.urls[mf.bare] as string;
  const etags = new Map<string, string>();
  for (const [name, base] of Object.entries(targetsByName)) {
    for (const label of LABELS) {
      const first = await probe(`${base}${configPath(sizeKey(label))}`);
      if (first.status !== 200 || !first.etag)
        throw new Error(`${name} ${label}: GET answered ${first.status}`);
      etags.set(`${name} ${label}`, first.etag);
    }
  }
  const summaries = new Map<string, VariantSummary>();
  for (const condition of ["304", "200"] as const) {
    const variants: Variant[] = LABELS.flatMap((label) =>
      Object.entries(targetsByName).map(
        ([name, base]): Variant => ({
          label: `${name} ${label} ${condition}`,
          url: `${base}${configPath(sizeKey(label))}`,
          headers: condition === "304" ? { "If-None-Match": etags.get(`${name} ${label}`) ?? "" } : {},
          cpuPids: mf.pids,
        }),
      ),
    );
    const result = await compareVariants(variants, {
      section: "size",
      rounds: ctx.sizes.rounds,
      durationS: ctx.sizes.sizeDurationS,
      connections: ctx.sizes.connections,
      tool: ctx.tool,
      warmupS: ctx.sizes.warmupS,
      settleMs: ctx.sizes.settleMs,
    });
    for (const [label, summary] of result) summaries.set(label, summary);
  }
  const rows: Cell[][] = [];
  for (const condition of ["200", "304"] as const) {
    for (const label of LABELS) {
      const edge = summaries.get(`edge ${label} ${condition}`);
      const bare = summaries.get(`bare ${label} ${condition}`);
      if (!edge) continue;
      const mibps = edge.runs.reduce((n, r) => n + r.bytes / r.durationS, 0) / edge.runs.length / 1024 ** 2;
      rows.push([
        `${label} ${condition}`,
        edge.rps,
        edge.p50,
        edge.p99,
        edge.cpuUs,
        mibps,
        bare?.rps ?? null,
        bare?.p99 ?? null,
        bare?.cpuUs ?? null,
        bare ? ratio(edge.rps, bare.rps) : null,
      ]);
    }
  }
  const small = summaries.get("edge 1k 304");
  const large = summaries.get("edge 1m 304");
  const targets: Target[] = [];
  if (small?.cpuUs && large?.cpuUs) {
    const r = ratio(large.cpuUs, small.cpuUs);
    targets.push({
      name: "304 on 1 MiB within 10% of 304 on 1 KiB (CPU per request)",
      met: r <= 1.1,
      detail: `${r}× (${large.cpuUs} vs ${small.cpuUs} µs/req)`,
    });
  }
  if (small && large) {
    const r = ratio(large.rps, small.rps);
    targets.push({
      name: "304 on 1 MiB within 10% of 304 on 1 KiB (req/s)",
      met: r >= 0.9,
      detail: `${r}× (${Math.round(large.rps)} vs ${Math.round(small.rps)} req/s; p50 ${large.p50} vs ${small.p50} ms)`,
    });
  }
  return {
    id: "size",
    title: "2. Size scaling: 1 KiB, 64 KiB, 1 MiB (plain Miniflare)",
    method:
      `Same harness as §1 on plain Miniflare: ${ctx.tool}, ${ctx.sizes.connections} connections, ` +
      `${ctx.sizes.sizeDurationS} s per run, ${ctx.sizes.rounds} rounds, each visiting every size on the edge then the bare ` +
      `worker (all 304 rounds first, then 200), ${ctx.sizes.settleMs} ms pause after each run, medians. ` +
      `Keys ${LABELS.map((l) => configPath(sizeKey(l))).join(", ")}, all hot in isolate memory.`,
    columns: [
      "size / status",
      "edge req/s",
      "edge p50 ms",
      "edge p99 ms",
      "edge CPU µs/req",
      "edge MiB/s",
      "bare req/s",
      "bare p99 ms",
      "bare CPU µs/req",
      "req/s ratio",
    ],
    rows,
    targets,
    notes: [],
    raw: Object.fromEntries(summaries),
  };
}
