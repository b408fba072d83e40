/**
 * CPU profile of one edge worker under load: `node --experimental-websocket --import tsx
 * bench/profile.ts [--worker edge|edge-nolog|bare] [--status 200|304] [--seconds 5]`. Starts the
 * plain-Miniflare bench stack, samples the isolate with the V8 profiler through workerd's
 * inspector while wrk (or autocannon) loads the 4 KiB hot key, prints the functions with the most
 * self time and writes the .cpuprofile (open it in Chrome DevTools) to bench/results/profiles/.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createContext, probe } from "./lib/context";
import { InspectorSession } from "./lib/inspector";
import { runLoad, wrkAvailable } from "./lib/load";
import { configPath, HOT_KEY, startEdgeMiniflare } from "./lib/stacks";
import { REPO_ROOT } from "./lib/wrangler";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

async function main(): Promise<void> {
  const worker = option("worker", "edge");
  const status = option("status", "304");
  const seconds = Number(option("seconds", "5"));
  const stamp = new Date().toISOString().replace(/[:.]/g, "").slice(0, 15);
  const ctx = createContext({
    quick: true,
    tool: wrkAvailable() ? "wrk" : "autocannon",
    stamp: `profile-${stamp}`,
  });
  const mf = await startEdgeMiniflare(ctx);
  try {
    const url = `${mf.urls[worker]}${configPath(HOT_KEY)}`;
    const first = await probe(url);
    const headers: Record<string, string> =
      status === "304" && first.etag ? { "If-None-Match": first.etag } : {};
    await runLoad({ url, connections: 32, durationS: 2, tool: ctx.tool, headers });
    const session = await InspectorSession.connect(`ws://127.0.0.1:${mf.inspectorPort}/core:user:${worker}`);
    await session.send("Profiler.enable");
    await session.send("Profiler.setSamplingInterval", { interval: 100 });
    await session.send("Profiler.start");
    const load = await runLoad({ url, connections: 32, durationS: seconds, tool: ctx.tool, headers });
    const { profile } = await session.send<{
      profile: { nodes: ProfileNode[]; startTime: number; endTime: number };
    }>("Profiler.stop");
    session.close();
    const dir = join(REPO_ROOT, "bench", "results", "profiles");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${stamp}-${worker}-${status}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    const total = profile.nodes.reduce((n, node) => n + (node.hitCount ?? 0), 0);
    const byFunction = new Map<string, number>();
    for (const node of profile.nodes) {
      const { functionName, url: source, lineNumber } = node.callFrame;
      const name = `${functionName || "(anonymous)"} ${source ? `${source.split("/").pop()}:${lineNumber + 1}` : ""}`;
      byFunction.set(name, (byFunction.get(name) ?? 0) + (node.hitCount ?? 0));
    }
    console.log(`${worker} ${status}: ${load.rps} req/s during the profile, ${total} samples; wrote ${file}`);
    const top = [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 25);
    for (const [name, hits] of top) console.log(`${((hits / total) * 100).toFixed(1).padStart(6)}%  ${name}`);
  } finally {
    await mf.dispose();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
