/**
 * §1c What the fleet recording costs the hot path (issue: < 5 % of throughput): 304s of one public
 * 4 KiB key from isolate memory, a different `Config-Client-Id` per request cycling over 10,000
 * (each a sighting in the isolate's table, flushed every FLEET_FLUSH_MS). On the edge alone, A/B =
 * recording off/on for the same requests (batches to a sink storing nothing); on the full stack,
 * A/B = without/with client ids (the origin's FleetStore storing them; the fleet view proves it).
 */
import { OriginAdmin } from "../lib/admin";
import { compareVariants, type Variant, type VariantSummary } from "../lib/compare";
import { type BenchContext, probe } from "../lib/context";
import { benchDocument } from "../lib/document";
import { sleep } from "../lib/processes";
import type { Cell, Section, Target } from "../lib/report";
import { progress } from "../lib/report";
import { configPath, type EdgeMiniflare, type FullStack, HOT_KEY } from "../lib/stacks";
import { ratio } from "../lib/stats";

const KEY = "benchrec/svc/flags";
const CLIENT_IDS = 10_000;

interface FleetView {
  clients: number;
  versions: Array<{ version: number; clients: number }>;
}

interface Pair {
  plain: VariantSummary;
  recorded: VariantSummary;
}

/** A/B rounds of 304s: each variant a URL and whether it sends a client id per request. */
async function measure(
  ctx: BenchContext,
  section: string,
  sides: readonly [Side, Side],
  pids: (() => number[]) | undefined,
): Promise<Pair> {
  const variants: Variant[] = [];
  for (const side of sides) {
    const first = await probe(side.url);
    if (first.status !== 200 || !first.etag) throw new Error(`GET ${side.url} answered ${first.status}`);
    variants.push({
      label: side.label,
      url: side.url,
      headers: { "If-None-Match": first.etag },
      ...(side.clientIds ? { clientIds: CLIENT_IDS } : {}),
      ...(pids ? { cpuPids: pids } : {}),
    });
  }
  const results = await compareVariants(variants, {
    section,
    // Twice the hot section's rounds: the effect sought (< 5 %) is smaller than one round's noise.
    rounds: ctx.sizes.rounds * 2,
    durationS: ctx.sizes.durationS,
    connections: ctx.sizes.connections,
    tool: ctx.tool,
    warmupS: ctx.sizes.warmupS,
  });
  const plain = results.get(sides[0].label);
  const recorded = results.get(sides[1].label);
  if (!plain || !recorded) throw new Error("missing recording summaries");
  return { plain, recorded };
}

interface Side {
  label: string;
  url: string;
  clientIds: boolean;
}

const IDS = `${CLIENT_IDS.toLocaleString("en")} client ids`;

/**
 * The edge alone, the same requests (a client id each) both ways: A is the edge without fleet
 * recording (no ORIGIN binding: nowhere to send sightings, so nothing is recorded), B the same
 * build recording, its ORIGIN a sink that stores nothing. B − A is what recording costs the hot path.
 */
export async function recordingOnEdge(ctx: BenchContext, mf: EdgeMiniflare): Promise<EdgePair> {
  const url = (worker: string) => `${mf.urls[worker]}${configPath(HOT_KEY)}`;
  const before = await sinkCount(mf);
  const pair = await measure(
    ctx,
    "recording/edge",
    [
      { label: `${IDS}, recording off`, url: url(mf.edge), clientIds: true },
      { label: `${IDS}, recording on`, url: url(mf.edgeRecording), clientIds: true },
    ],
    mf.pids,
  );
  // The last batch leaves on a request after FLEET_FLUSH_MS (flushes piggyback on requests).
  await sleep(2100);
  await probe(url(mf.edgeRecording), { "Config-Client-Id": "recording-flush" });
  await sleep(200);
  const after = await sinkCount(mf);
  const sink = { batches: after.batches - before.batches, sightings: after.sightings - before.sightings };
  progress("recording", "edge-only sink", `${sink.batches} batches, ${sink.sightings} sightings received`);
  return { ...pair, sink };
}

interface SinkCount {
  batches: number;
  sightings: number;
}

/** What bench/fleet-sink has received so far (its `GET /count`). */
async function sinkCount(mf: EdgeMiniflare): Promise<SinkCount> {
  const res = await fetch(`${mf.urls[mf.fleetSink]}/count`, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`fleet sink /count answered ${res.status}`);
  return (await res.json()) as SinkCount;
}

export interface EdgePair extends Pair {
  /** Batches and sightings the sink received during the pair's runs: proof the "on" side recorded. */
  sink: SinkCount;
}

/**
 * The whole path (edge + origin in one Miniflare): the origin's FleetStore stores every batch on
 * the same two CPUs; the fleet view afterwards proves the sightings arrived.
 */
export async function recordingSection(
  ctx: BenchContext,
  stack: FullStack,
  edgeOnly: EdgePair | null,
): Promise<Section> {
  const admin = await OriginAdmin.create(stack.origin.url, ctx.secrets.ADMIN_JWT_SECRET);
  await admin.setNamespace("benchrec", { visibility: "public", maxAge: 60 });
  await admin.mustPublish(KEY, benchDocument(4096, 7));
  const url = `${stack.edge.url}/v1/configs/${KEY}`;
  const whole = await measure(
    ctx,
    "recording/full",
    [
      { label: "no client id", url, clientIds: false },
      { label: IDS, url, clientIds: true },
    ],
    stack.pids,
  );
  // Let the last batch reach the origin (flushes piggyback on requests, so send a few).
  for (let i = 0; i < 3; i++) {
    await sleep(2100);
    await probe(url, { "Config-Client-Id": `client-${i}` });
  }
  const view = await admin.getJson<FleetView>(`/v1/configs/${KEY}/-/fleet?window=3600`);
  progress("recording", "fleet view", `${view.clients} clients seen`);
  const targets: Target[] = [];
  const rows: Cell[][] = [];
  const add = (where: string, pair: Pair, target: boolean) => {
    const rpsRatio = ratio(pair.recorded.rps, pair.plain.rps);
    const cpuRatio =
      pair.plain.cpuUs && pair.recorded.cpuUs ? ratio(pair.plain.cpuUs, pair.recorded.cpuUs) : null;
    for (const r of [pair.plain, pair.recorded])
      rows.push([`${where}: ${r.label}`, r.rps, r.p50, r.p99, r.cpuUs]);
    if (!target) return;
    targets.push({
      name: `${where}: fleet recording costs < 5 % of hot-path throughput (req/s recording ≥ 0.95× not)`,
      met: rpsRatio >= 0.95,
      detail: `${rpsRatio}× (${Math.round(pair.recorded.rps)} vs ${Math.round(pair.plain.rps)} req/s)`,
    });
    if (cpuRatio !== null) {
      targets.push({
        name: `${where}: CPU per request within 5 % (steadier estimate)`,
        met: cpuRatio >= 0.95,
        detail: `without/with ${cpuRatio}× (${pair.plain.cpuUs?.toFixed(1)} vs ${pair.recorded.cpuUs?.toFixed(1)} µs/req)`,
      });
    }
  };
  if (edgeOnly) {
    add("edge alone", edgeOnly, true);
    // Without a flushed batch the "recording on" side measured nothing worth comparing.
    targets.push({
      name: "edge alone: the recording side flushed batches to the sink",
      met: edgeOnly.sink.batches > 0 && edgeOnly.sink.sightings > 0,
      detail: `${edgeOnly.sink.batches} batches, ${edgeOnly.sink.sightings.toLocaleString("en")} sightings received by bench/fleet-sink`,
    });
  }
  add("edge + origin storing", whole, edgeOnly === null);
  const wholeRatio = ratio(whole.recorded.rps, whole.plain.rps);
  return {
    id: "recording",
    title: "1c. Fleet recording cost (plain Miniflare, 4 KiB 304s from memory)",
    method:
      `${ctx.tool}, ${ctx.sizes.connections} connections, ${ctx.sizes.rounds * 2} A/B rounds of ${ctx.sizes.durationS} s ` +
      `per pair; A sends no Config-Client-Id, B a different one per request over ${CLIENT_IDS.toLocaleString("en")} ids ` +
      "(bench/lib/wrk-client-ids.lua), so B records a sighting per request and flushes batches (≤ 4 × 2,000 " +
      'sightings) every 2 s. "edge (origin = sink)": the edge alone, its ORIGIN binding a worker that reads each ' +
      'batch and stores nothing (bench/fleet-sink) — the hot path\'s cost, the target. "edge + origin storing": ' +
      "the full Miniflare stack, the origin's FleetStore upserting every sighting into SQLite on the same 2 CPUs. " +
      "CPU µs/req counts every workerd process this bench run started (bench/lib/cpu.ts ownWorkerdPids: the " +
      "edge-only Miniflare hosting both edges and the sink, and the full-stack Miniflare, idle or not, when both are up), " +
      "so the sink's own work is billed to the recording side. The sink counts the batches and sightings it received " +
      "(`GET /count`), shown below.",
    columns: ["edge / variant", "req/s", "p50 ms", "p99 ms", "CPU µs/req"],
    rows,
    targets,
    notes: [
      `Afterwards the fleet view of ${KEY} counted ${view.clients} distinct clients (window 1 h): the recording ran ` +
        `end to end. With the origin storing on the same CPUs, B ran at ${wholeRatio}× A.`,
    ],
    raw: { edgeOnly, whole, view },
  };
}
