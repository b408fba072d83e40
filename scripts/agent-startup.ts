/**
 * Start-up time and memory of the agent's process, bounded (BENCHMARKS.md, "Agent start-up and
 * memory"): `tsx scripts/agent-startup.ts [runs]` compares `node cli/bin.mjs` (TypeScript through
 * tsx) with `node dist/cli.mjs` (the bundle; run `npm run build` first) and bare `node`.
 *   start: wall time of spawn → exit of `agent --help`, sequential runs, median/min/max
 *   rss:   max RSS of that process (/usr/bin/time -f %M), and of a running agent after 3 s
 *          (VmHWM from /proc, the agent polling an edge that refuses connections)
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const runs = Math.min(Math.max(Number(process.argv[2] ?? 15), 1), 100);
const entries: Record<string, string[]> = {
  "node (bare, -e 0)": ["-e", "0"],
  "tsx (node cli/bin.mjs)": [join(root, "cli", "bin.mjs"), "agent", "--help"],
  "bundle (node dist/cli.mjs)": [join(root, "dist", "cli.mjs"), "agent", "--help"],
};

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

function startup(args: string[]) {
  const times: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const result = spawnSync("/usr/bin/time", ["-f", "%M", process.execPath, ...args], {
      encoding: "utf8",
      timeout: 30_000,
    });
    times.push(performance.now() - started);
    if (result.status !== 0) throw new Error(`${args.join(" ")} failed: ${result.stderr}`);
    rss.push(Number(result.stderr.trim().split("\n").pop()) / 1024);
  }
  return {
    medianMs: median(times),
    minMs: Math.min(...times),
    maxMs: Math.max(...times),
    maxRssMiB: median(rss),
  };
}

/** A running agent's peak RSS after 3 s: it polls an edge on a closed port and backs off. */
async function runningAgent(entry: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "fleetconf-agent-rss-"));
  let child: ChildProcess | undefined;
  try {
    child = spawn(
      process.execPath,
      [
        entry,
        "agent",
        "--edge",
        "http://127.0.0.1:9",
        "--key",
        "bench/agent/rss",
        "--out",
        join(dir, "out.json"),
        "--interval",
        "1",
      ],
      { stdio: "ignore" },
    );
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
    const kib = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
    return kib / 1024;
  } finally {
    child?.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
}

const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
console.log(`runs ${runs}, load average ${load}, node ${process.version}`);
for (const [name, args] of Object.entries(entries)) {
  const s = startup(args);
  const running = args[0]?.endsWith(".mjs")
    ? `, running agent VmHWM ${(await runningAgent(args[0])).toFixed(1)} MiB`
    : "";
  console.log(
    `${name}: start median ${s.medianMs.toFixed(0)} ms (min ${s.minMs.toFixed(0)}, max ${s.maxMs.toFixed(0)}), max RSS ${s.maxRssMiB.toFixed(1)} MiB${running}`,
  );
}
