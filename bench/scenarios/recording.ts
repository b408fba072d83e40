/**
 * §1c What the fleet recording costs the hot path (issue: < 5 % of throughput). On the full plain
 * Miniflare stack (edge + origin, the edge's ORIGIN binding live), 304s of one public 4 KiB key
 * from isolate memory, A/B rounds: A without `Config-Client-Id` (nothing recorded), B with a
 * different id per request cycling over 10,000 (each a sighting in the isolate's table, flushed to
 * the origin's FleetStore every FLEET_FLUSH_MS). The fleet view afterwards proves B really recorded.
 */
import { OriginAdmin } from "../lib/admin";
import { compareVariants, type Variant } from "../lib/compare";
import { type BenchContext, probe } from "../lib/context";
import { benchDocument } from "../lib/document";
import { sleep } from "../lib/processes";
import type { Section, Target } from "../lib/report";
import { progress } from "../lib/report";
import type { FullStack } from "../lib/stacks";
import { ratio } from "../lib/stats";

const KEY = "benchrec/svc/flags";
const CLIENT_IDS = 10_000;

interface FleetView {
  clients: number;
  versions: Array<{ version: number; clients: number }>;
}

export async function recordingSection(ctx: BenchContext, stack: FullStack): Promise<Section> {
  const admin = await OriginAdmin.create(stack.origin.url, ctx.secrets.ADMIN_JWT_SECRET);
  await admin.setNamespace("benchrec", { visibility: "public", maxAge: 60 });
  await admin.mustPublish(KEY, benchDocument(4096, 7));
  const url = `${stack.edge.url}/v1/configs/${KEY}`;
  const first = await probe(url);
  if (first.status !== 200 || !first.etag) throw new Error(`GET ${KEY} answered ${first.status}`);
  const headers = { "If-None-Match": first.etag };
  const cpu = stack.pids ? { cpuPids: stack.pids } : {};
  const variants: Variant[] = [
    { label: "no client id", url, headers, ...cpu },
    { label: `${CLIENT_IDS.toLocaleString("en")} client ids`, url, headers, clientIds: CLIENT_IDS, ...cpu },
  ];
  const results = await compareVariants(variants, {
    section: "recording",
    // Twice the hot section's rounds: the effect sought (< 5 %) is smaller than one round's noise.
    rounds: ctx.sizes.rounds * 2,
    durationS: ctx.sizes.durationS,
    connections: ctx.sizes.connections,
    tool: ctx.tool,
    warmupS: ctx.sizes.warmupS,
  });
  const plain = results.get(variants[0]?.label ?? "");
  const recorded = results.get(variants[1]?.label ?? "");
  if (!plain || !recorded) throw new Error("missing recording summaries");
  // Let the last batch reach the origin (flushes piggyback on requests, so send a few).
  for (let i = 0; i < 3; i++) {
    await sleep(2100);
    await probe(url, { "Config-Client-Id": `client-${i}` });
  }
  const view = await admin.getJson<FleetView>(`/v1/configs/${KEY}/fleet?window=3600`);
  progress("recording", "fleet view", `${view.clients} clients seen`);
  const rpsRatio = ratio(recorded.rps, plain.rps);
  const cpuRatio = plain.cpuUs && recorded.cpuUs ? ratio(plain.cpuUs, recorded.cpuUs) : null;
  const targets: Target[] = [
    {
      name: "fleet recording costs < 5 % of hot-path throughput (req/s with ids ≥ 0.95× without)",
      met: rpsRatio >= 0.95,
      detail: `${rpsRatio}× (${Math.round(recorded.rps)} vs ${Math.round(plain.rps)} req/s)`,
    },
  ];
  if (cpuRatio !== null) {
    targets.push({
      name: "fleet recording: CPU per request within 5 % (steadier estimate)",
      met: cpuRatio >= 0.95,
      detail: `without/with ${cpuRatio}× (${plain.cpuUs} vs ${recorded.cpuUs} µs/req, edge + origin)`,
    });
  }
  return {
    id: "recording",
    title: "1c. Fleet recording cost (plain Miniflare, edge + origin, 4 KiB 304s)",
    method:
      `${ctx.tool}, ${ctx.sizes.connections} connections, ${ctx.sizes.rounds * 2} A/B rounds of ${ctx.sizes.durationS} s; ` +
      `A sends no Config-Client-Id, B a different one per request over ${CLIENT_IDS.toLocaleString("en")} ids ` +
      "(bench/lib/wrk-client-ids.lua), so B records a sighting per request and flushes batches to the origin's " +
      "FleetStore every 2 s. CPU µs/req counts the one workerd process hosting edge and origin, so it includes the " +
      "origin's work storing the batches.",
    columns: ["variant", "req/s", "p50 ms", "p99 ms", "CPU µs/req"],
    rows: [plain, recorded].map((r) => [r.label, r.rps, r.p50, r.p99, r.cpuUs]),
    targets,
    notes: [
      `Afterwards the fleet view of ${KEY} counted ${view.clients} distinct clients (window 1 h): the recording ran.`,
    ],
    raw: { plain, recorded, view },
  };
}
