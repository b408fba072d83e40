/**
 * §5 Propagation: how long after the origin acknowledges a publish the edge serves the new
 * version. Before each publish the key is read at the edge (so the old version is hot in isolate
 * memory); after the 201 the bench reads the edge back to back until Config-Version is the new
 * one. Latency = first response with the new version − acknowledgement.
 */
import { OriginAdmin } from "../lib/admin";
import type { BenchContext } from "../lib/context";
import { benchDocument } from "../lib/document";
import { sleep } from "../lib/processes";
import type { Cell, Section } from "../lib/report";
import { progress } from "../lib/report";
import type { FullStack } from "../lib/stacks";
import { summarize } from "../lib/stats";
import { stackDescription } from "./origin";

const KEY = "bench/prop/flags";
const GIVE_UP_MS = 10_000;

async function edgeVersion(url: string): Promise<number | null> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  await res.arrayBuffer();
  const header = res.headers.get("Config-Version");
  return res.status === 200 && header ? Number(header) : null;
}

export async function propagationSection(ctx: BenchContext, stack: FullStack): Promise<Section> {
  const admin = await OriginAdmin.create(stack.origin.url, ctx.secrets.ADMIN_JWT_SECRET);
  await admin.setNamespace("bench", { visibility: "public" });
  const url = `${stack.edge.url}/v1/configs/${KEY}`;
  await admin.mustPublish(KEY, benchDocument(4096, 0));
  const latencies: number[] = [];
  const pollsNeeded: number[] = [];
  let timeouts = 0;
  for (let i = 1; i <= ctx.sizes.propagationPublishes; i++) {
    await edgeVersion(url); // the current version is hot at the edge
    const published = await admin.mustPublish(KEY, benchDocument(4096, i));
    let polls = 0;
    let seenAt: number | null = null;
    while (performance.now() - published.ackedAt < GIVE_UP_MS) {
      polls++;
      const version = await edgeVersion(url);
      if (version !== null && version >= published.version) {
        seenAt = performance.now();
        break;
      }
    }
    if (seenAt === null) timeouts++;
    else {
      latencies.push(seenAt - published.ackedAt);
      pollsNeeded.push(polls);
    }
    await sleep(10);
  }
  const s = summarize(latencies);
  const firstPoll = pollsNeeded.filter((n) => n === 1).length;
  progress(
    "propagation",
    `${latencies.length} publishes`,
    `p50 ${s.p50} ms  p99 ${s.p99} ms  max ${s.max} ms`,
  );
  const rows: Cell[][] = [[latencies.length, s.p50, s.p90, s.p99, s.max, firstPoll, timeouts]];
  return {
    id: `propagation/${stack.runtime}`,
    title: `5. Propagation: publish acknowledged → edge serves the new version (${stack.runtime})`,
    method:
      `${stackDescription(stack)}; ${ctx.sizes.propagationPublishes} publishes of a 4 KiB config to ${KEY}, one at a ` +
      "time. Before each, one edge read makes the old version hot in isolate memory; after the 201, edge reads back to " +
      `back until Config-Version shows the new version (give up after ${GIVE_UP_MS / 1000} s).`,
    columns: ["publishes", "p50 ms", "p90 ms", "p99 ms", "max ms", "new on first read", "never seen"],
    rows,
    targets: [
      {
        name: "propagation p99 ≤ 100 ms locally",
        met: latencies.length > 0 && timeouts === 0 ? s.p99 <= 100 : false,
        detail: `p99 ${s.p99} ms over ${latencies.length} publishes${timeouts ? `, ${timeouts} never seen` : ""}`,
      },
    ],
    notes: [
      `${firstPoll} of ${latencies.length} publishes were visible on the very first edge read after the acknowledgement ` +
        "(the origin purges the edge through its service binding before it answers).",
    ],
    raw: { latencies, pollsNeeded, timeouts, summary: s },
  };
}
