/**
 * §4 Origin: publish latency one at a time, then throughput with several publishers at once —
 * each on its own key (different keys of one namespace share its Durable Object) and all on one
 * key (publishes to one key are serialised). Every publish has new content (4 KiB) so none is
 * an idempotent no-op, and each goes all the way: SQLite, signing, KV, edge purge.
 */
import { OriginAdmin, type PublishResult } from "../lib/admin";
import type { BenchContext } from "../lib/context";
import { benchDocument } from "../lib/document";
import type { Cell, Section } from "../lib/report";
import { progress } from "../lib/report";
import type { FullStack } from "../lib/stacks";
import { round, summarize } from "../lib/stats";

const CONCURRENCY = 8;
let seed = 1;
const nextDocument = () => benchDocument(4096, seed++);

interface Phase {
  name: string;
  publishes: number;
  concurrency: number;
  elapsedMs: number;
  latencies: number[];
  failures: number;
}

async function phase(
  name: string,
  total: number,
  concurrency: number,
  keyFor: (worker: number) => string,
  admin: OriginAdmin,
): Promise<Phase> {
  const latencies: number[] = [];
  let failures = 0;
  let issued = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (issued < total) {
        issued++;
        const result: PublishResult = await admin.publish(keyFor(worker), nextDocument());
        if (result.status === 201 || result.status === 200) latencies.push(result.latencyMs);
        else failures++;
      }
    }),
  );
  const p: Phase = {
    name,
    publishes: total,
    concurrency,
    elapsedMs: performance.now() - started,
    latencies,
    failures,
  };
  const s = summarize(latencies);
  progress(
    "origin",
    name,
    `${round((latencies.length / p.elapsedMs) * 1000, 1)} publishes/s  p50 ${s.p50} ms  p99 ${s.p99} ms${failures ? `  failed ${failures}` : ""}`,
  );
  return p;
}

export function stackDescription(stack: FullStack): string {
  return stack.runtime === "miniflare"
    ? "Edge and origin in one plain Miniflare process (the origin's Durable Objects and EDGE binding from origin/wrangler.toml)"
    : "Edge and origin under `wrangler dev`, sharing one KV and a private dev registry, as `npm run dev` runs them";
}

export async function originSection(ctx: BenchContext, stack: FullStack): Promise<Section> {
  const admin = await OriginAdmin.create(stack.origin.url, ctx.secrets.ADMIN_JWT_SECRET);
  await admin.setNamespace("bench", { visibility: "public" });
  await admin.mustPublish("bench/origin/warm", nextDocument());
  const { publishes, concurrentPublishes } = ctx.sizes;
  const phases = [
    await phase("sequential, one key", publishes, 1, () => "bench/origin/seq", admin),
    await phase(
      `${CONCURRENCY} publishers, own keys`,
      concurrentPublishes,
      CONCURRENCY,
      (w) => `bench/origin/k${w}`,
      admin,
    ),
    await phase(
      `${CONCURRENCY} publishers, one key`,
      concurrentPublishes,
      CONCURRENCY,
      () => "bench/origin/shared",
      admin,
    ),
  ];
  const rows: Cell[][] = phases.map((p) => {
    const s = summarize(p.latencies);
    return [
      p.name,
      p.latencies.length,
      round((p.latencies.length / p.elapsedMs) * 1000, 1),
      s.p50,
      s.p99,
      s.max,
      p.failures,
    ];
  });
  return {
    id: `origin/${stack.runtime}`,
    title: `4. Origin: publish latency and throughput (${stack.runtime}, edge + origin)`,
    method:
      `${stackDescription(stack)}. PUT /v1/configs/{key} with a ` +
      `fresh 4 KiB document each time; sequential: ${publishes} publishes one after another; concurrent: ` +
      `${concurrentPublishes} publishes from ${CONCURRENCY} loops at once, on ${CONCURRENCY} keys of one namespace or all on one key. ` +
      "Latency is request sent → 201 received (the origin acknowledges after SQLite, KV writes and the edge purge).",
    columns: ["phase", "publishes", "publishes/s", "p50 ms", "p99 ms", "max ms", "failed"],
    rows,
    targets: [],
    notes: [],
    raw: phases.map((p) => ({ ...p, summary: summarize(p.latencies) })),
  };
}
