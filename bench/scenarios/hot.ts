/**
 * §1 Hot path: GET 200 and conditional 304 of a 4 KiB config served from isolate memory, the
 * edge against the bare worker on the same harness in the same run, under `wrangler dev` (one
 * process each) and under plain Miniflare (both in one process); nginx as a reference line.
 */
import { compareVariants, type Variant, type VariantSummary } from "../lib/compare";
import { type BenchContext, probe } from "../lib/context";
import type { Cell, Section, Target } from "../lib/report";
import { progress } from "../lib/report";
import { configPath, type EdgeMiniflare, HOT_KEY, type NginxServer, type WranglerPair } from "../lib/stacks";
import { ratio } from "../lib/stats";

interface Endpoint {
  label: string;
  base: string;
  /** The server's processes, for CPU per request. */
  pids?: () => number[];
}

export interface HotRow {
  runtime: string;
  condition: "200" | "304";
  edge: VariantSummary;
  bare: VariantSummary | null;
  /** The bare worker sending the contract's header fields (bench/bare-worker, `/contract/…`). */
  contract: VariantSummary | null;
}

/** Warms each endpoint and returns the headers that make its request a 304. */
async function conditionalHeaders(endpoint: Endpoint, key: string): Promise<Record<string, string>> {
  const url = `${endpoint.base}${configPath(key)}`;
  const first = await probe(url);
  if (first.status !== 200 || !first.etag) {
    throw new Error(
      `${endpoint.label}: GET ${configPath(key)} answered ${first.status}, expected 200 with an ETag`,
    );
  }
  const second = await probe(url, { "If-None-Match": first.etag });
  if (second.status !== 304) throw new Error(`${endpoint.label}: conditional GET answered ${second.status}`);
  return { "If-None-Match": first.etag };
}

/**
 * Fails the scenario unless the edge answers the key from isolate memory (`Cache-Status: …;
 * detail=memory`, RFC 9211): otherwise a "hot path" figure could silently be a Cache API or KV
 * figure. Servers without a Cache-Status (nginx) are not edges and are not checked.
 */
async function assertMemoryTier(edge: Endpoint, key: string, section: string, when: string): Promise<void> {
  const seen = await probe(`${edge.base}${configPath(key)}`);
  progress(section, `${edge.label} Cache-Status ${when}`, seen.cacheStatus ?? "(none)");
  if (edge.label === "nginx") return;
  if (seen.status !== 200 || !seen.cacheStatus?.includes("detail=memory")) {
    throw new Error(
      `${edge.label}: ${configPath(key)} ${when} answered ${seen.status} with Cache-Status ${seen.cacheStatus ?? "(none)"}, not from memory`,
    );
  }
}

/** Runs 200 and 304 for the edge and its bare twin; returns one row per condition. */
export async function hotPair(
  ctx: BenchContext,
  runtime: string,
  edge: Endpoint,
  bare: Endpoint | null,
  key = HOT_KEY,
  durationS = ctx.sizes.durationS,
): Promise<HotRow[]> {
  const section = `hot/${runtime}`;
  const contract: Endpoint | null = bare
    ? { ...bare, label: "bare+hdrs", base: `${bare.base}/contract` }
    : null;
  const endpoints = bare && contract ? [edge, bare, contract] : [edge];
  const conditional = new Map<string, Record<string, string>>();
  for (const endpoint of endpoints) conditional.set(endpoint.label, await conditionalHeaders(endpoint, key));
  await assertMemoryTier(edge, key, section, "before");
  const rows: HotRow[] = [];
  for (const condition of ["200", "304"] as const) {
    const variants: Variant[] = endpoints.map(
      (endpoint): Variant => ({
        label: `${endpoint.label} ${condition}`,
        url: `${endpoint.base}${configPath(key)}`,
        headers: condition === "304" ? (conditional.get(endpoint.label) ?? {}) : {},
        ...(endpoint.pids ? { cpuPids: endpoint.pids } : {}),
      }),
    );
    const summaries = await compareVariants(variants, {
      section,
      rounds: ctx.sizes.rounds,
      durationS,
      connections: ctx.sizes.connections,
      tool: ctx.tool,
      warmupS: ctx.sizes.warmupS,
    });
    // A figure is a memory-tier figure only if the key was still in memory when the runs ended.
    await assertMemoryTier(edge, key, section, `after the ${condition} runs`);
    const edgeSummary = summaries.get(`${edge.label} ${condition}`);
    if (!edgeSummary) throw new Error("missing edge summary");
    rows.push({
      runtime,
      condition,
      edge: edgeSummary,
      bare: bare ? (summaries.get(`${bare.label} ${condition}`) ?? null) : null,
      contract: contract ? (summaries.get(`${contract.label} ${condition}`) ?? null) : null,
    });
  }
  return rows;
}

export async function hotOnWrangler(ctx: BenchContext, pair: WranglerPair): Promise<HotRow[]> {
  return hotPair(
    ctx,
    "wrangler dev",
    { label: "edge", base: pair.edge.url, pids: pair.edge.pids },
    { label: "bare", base: pair.bare.url, pids: pair.bare.pids },
  );
}

export async function hotOnMiniflare(ctx: BenchContext, mf: EdgeMiniflare): Promise<HotRow[]> {
  const edge = mf.urls[mf.edge] as string;
  const bare = mf.urls[mf.bare] as string;
  const pids = mf.pids;
  return hotPair(ctx, "miniflare", { label: "edge", base: edge, pids }, { label: "bare", base: bare, pids });
}

export async function hotOnNginx(ctx: BenchContext, nginx: NginxServer): Promise<HotRow[]> {
  return hotPair(ctx, "nginx", { label: "nginx", base: nginx.url, pids: nginx.pids }, null);
}

export function hotSection(rows: readonly HotRow[], ctx: BenchContext): Section {
  const table: Cell[][] = [];
  const targets: Target[] = [];
  for (const row of rows) {
    const { edge, bare, contract } = row;
    table.push([
      `${row.runtime} ${row.condition}`,
      edge.rps,
      edge.p50,
      edge.p99,
      edge.cpuUs,
      bare?.rps ?? null,
      bare?.p50 ?? null,
      bare?.p99 ?? null,
      bare?.cpuUs ?? null,
      bare ? ratio(edge.rps, bare.rps) : null,
      bare ? ratio(edge.p50, bare.p50) : null,
      bare && edge.cpuUs && bare.cpuUs ? ratio(bare.cpuUs, edge.cpuUs) : null,
      contract?.rps ?? null,
      contract?.cpuUs ?? null,
      contract ? ratio(edge.rps, contract.rps) : null,
    ]);
    if (bare) {
      const rpsRatio = ratio(edge.rps, bare.rps);
      const p50Ratio = ratio(edge.p50, bare.p50);
      targets.push({
        name: `${row.runtime} ${row.condition}: req/s ≥ 0.9× bare`,
        met: rpsRatio >= 0.9,
        detail: `${rpsRatio}× (${Math.round(edge.rps)} vs ${Math.round(bare.rps)} req/s)`,
      });
      // Was "p99 ≤ 1.5× bare": the bare worker's p99 is tail noise here (150–320 ms against a p50
      // of 1–2 ms under Miniflare, bench/results/2026-11-30T1914/1935), so that target could not
      // fail. The median is stable across rounds (±15 %) and, in a closed loop, tracks the time
      // each request takes; 1.25× leaves that noise room and still fails on a real regression.
      targets.push({
        name: `${row.runtime} ${row.condition}: p50 ≤ 1.25× bare's p50`,
        met: p50Ratio <= 1.25,
        detail: `${p50Ratio}× (${edge.p50} vs ${bare.p50} ms; p99 ${edge.p99} vs ${bare.p99} ms, for information)`,
      });
      if (edge.cpuUs && bare.cpuUs) {
        const cpuRatio = ratio(bare.cpuUs, edge.cpuUs);
        targets.push({
          name: `${row.runtime} ${row.condition}: CPU/request within 1/0.9 of bare's (steadier req/s estimate)`,
          met: cpuRatio >= 0.9,
          detail: `bare/edge ${cpuRatio}× (${edge.cpuUs} vs ${bare.cpuUs} µs/req)`,
        });
      }
    }
  }
  return {
    id: "hot",
    title: "1. Hot path: 4 KiB config from isolate memory, edge vs bare worker",
    method:
      `${ctx.tool} closed loop, ${ctx.sizes.connections} connections, ${ctx.sizes.durationS} s per run, ` +
      `${ctx.sizes.rounds} rounds after a ${ctx.sizes.warmupS} s warm-up each, the order reversed every other round ` +
      `(edge, bare, bare+hdrs, then bare+hdrs, bare, edge: ABBA); medians over rounds. Before the runs and after each ` +
      `status's runs the edge must answer from isolate memory (Cache-Status detail=memory) or the section fails. "edge" is the real ` +
      'edge (KV seeded in the contract\'s layout, key served from isolate memory); "bare" ' +
      '(bench/bare-worker) returns the same bytes from memory with an ETag and nothing else; "bare+hdrs" is the bare ' +
      "worker sending the header fields the wire contract requires of the edge (same names, values of the same " +
      "lengths: 11 on a 200, 7 on a 304), so edge / bare+hdrs is what fleetconf's code costs beyond its headers. " +
      "nginx (one worker process, etag on, access log off) serves the same bytes as a static file. " +
      "CPU µs/req: CPU time (/proc utime+stime) of the server's processes during the run ÷ requests — for " +
      "`wrangler dev` its process group (its Node process and its workerd processes), for Miniflare every workerd " +
      "process this bench run started (bench/lib/cpu.ts ownWorkerdPids), which includes the idle full-stack Miniflare " +
      "started beside it, not only the one hosting edge and bare. It moves far " +
      "less than req/s when other work shares the CPUs, so bare/edge CPU is the steadier estimate of the edge's " +
      "req/s as a fraction of bare's on a dedicated core.",
    columns: [
      "runtime / status",
      "edge req/s",
      "edge p50 ms",
      "edge p99 ms",
      "edge CPU µs/req",
      "bare req/s",
      "bare p50 ms",
      "bare p99 ms",
      "bare CPU µs/req",
      "req/s ratio",
      "p50 ratio",
      "CPU bare/edge",
      "bare+hdrs req/s",
      "bare+hdrs CPU µs/req",
      "edge / bare+hdrs req/s",
    ],
    rows: table,
    targets,
    notes: [],
    raw: rows,
  };
}
