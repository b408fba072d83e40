/**
 * `npm run bench [-- --quick] [--only hot,breakdown,recording,size,cold,origin,propagation,fleet,memory,locations] [--tool wrk|autocannon] [--lag-max <s>]`
 * (or `-- --render bench/results/<stamp>.json` to rewrite BENCHMARKS.md from a finished run).
 * Starts every server it measures (on 127.0.0.1, ports 19000–19199), runs each section, prints a
 * progress line per run and a table per section, then writes bench/results/<stamp>.json and the
 * Markdown report (BENCHMARKS.md for a full run, bench/results/<stamp>-quick.md for --quick).
 * Every server it started is stopped by PID at the end, also on failure.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative as relativePath, resolve as resolvePath } from "node:path";
import { createContext } from "./lib/context";
import { type LoadTool, wrkAvailable } from "./lib/load";
import { machineInfo } from "./lib/machine";
import { type RunResults, renderMarkdown } from "./lib/markdown";
import { printSection, progress, type Section, skippedSection } from "./lib/report";
import { snapshotSources } from "./lib/snapshot";
import {
  type FullStack,
  startEdgeMiniflare,
  startFullStack,
  startMiniflareFullStack,
  startNginx,
  startWranglerPair,
} from "./lib/stacks";
import { REPO_ROOT } from "./lib/wrangler";
import { breakdownSection } from "./scenarios/breakdown";
import { coldSection } from "./scenarios/cold";
import { fleetSection } from "./scenarios/fleet";
import { type HotRow, hotOnMiniflare, hotOnNginx, hotOnWrangler, hotSection } from "./scenarios/hot";
import { locationsParams, locationsSection } from "./scenarios/locations";
import { memorySection } from "./scenarios/memory";
import { originSection } from "./scenarios/origin";
import { propagationSection } from "./scenarios/propagation";
import { recordingOnEdge, recordingSection } from "./scenarios/recording";
import { sizeSection } from "./scenarios/size";

const ALL = [
  "hot",
  "breakdown",
  "recording",
  "size",
  "cold",
  "origin",
  "propagation",
  "fleet",
  "memory",
  "locations",
] as const;
type SectionId = (typeof ALL)[number];

interface Args {
  quick: boolean;
  only: Set<SectionId>;
  tool: LoadTool;
  /** `--lag-max <s>`: the production model's KV lag bound (default 60 s, quick 10 s). */
  lagMaxS?: number;
}

function parseArgs(argv: string[]): Args {
  let quick = false;
  let lagMaxS: number | undefined;
  let only = new Set<SectionId>(ALL);
  let tool: LoadTool = wrkAvailable() ? "wrk" : "autocannon";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const value = () => {
      const [, inline] = arg.split("=", 2);
      return inline ?? argv[++i] ?? "";
    };
    if (arg === "--quick") quick = true;
    else if (arg.startsWith("--only")) {
      const wanted = value().split(",").filter(Boolean);
      for (const id of wanted) if (!ALL.includes(id as SectionId)) throw new Error(`unknown section ${id}`);
      only = new Set(wanted as SectionId[]);
    } else if (arg.startsWith("--tool")) {
      const t = value();
      if (t !== "wrk" && t !== "autocannon") throw new Error("--tool is wrk or autocannon");
      tool = t;
    } else if (arg.startsWith("--lag-max")) {
      const seconds = Number(value());
      if (!Number.isFinite(seconds) || seconds < 0 || seconds > 600)
        throw new Error("--lag-max is 0–600 seconds");
      lagMaxS = seconds;
    } else throw new Error(`unknown argument ${arg}`);
  }
  return { quick, only, tool, ...(lagMaxS !== undefined ? { lagMaxS } : {}) };
}

/** Runs one section; a failure becomes a skipped section with its reason, and the run goes on. */
async function attempt(id: string, title: string, run: () => Promise<Section>): Promise<Section> {
  try {
    return await run();
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    return skippedSection(id, title, reason ?? "failed");
  }
}

/** `--render <results.json>`: rewrites BENCHMARKS.md from a finished full run (e.g. after editing findings.md). */
function renderOnly(jsonPath: string): void {
  const results = JSON.parse(readFileSync(jsonPath, "utf8")) as RunResults;
  const relative = relativePath(REPO_ROOT, resolvePath(jsonPath));
  const mdPath = results.quick ? jsonPath.replace(/\.json$/, ".md") : join(REPO_ROOT, "BENCHMARKS.md");
  writeFileSync(mdPath, renderMarkdown(results, relative));
  console.log(`wrote ${mdPath}`);
}

async function main(): Promise<void> {
  const renderAt = process.argv.indexOf("--render");
  if (renderAt >= 0) {
    renderOnly(process.argv[renderAt + 1] ?? "");
    return;
  }
  const args = parseArgs(process.argv.slice(2));
  const stamp = new Date().toISOString().replace(/[:.]/g, "").slice(0, 15);
  const sources = snapshotSources(stamp);
  const ctx = createContext({ quick: args.quick, tool: args.tool, stamp, sourceRoot: sources.root });
  const machine = machineInfo();
  const startedAt = new Date().toISOString();
  console.log(
    `fleetconf bench (${args.quick ? "quick" : "full"}): ${machine.nproc} CPUs, ${machine.memoryGiB} GiB, node ${machine.node}, ` +
      `load ${args.tool}; ${machine.foreignWorkerd} workerd processes already running; temp ${ctx.workDir}`,
  );
  const sections: Section[] = [];
  const done = (section: Section) => {
    sections.push(section);
    printSection(section);
  };
  const want = (id: SectionId) => args.only.has(id);

  // Every stack starts at once (startup dominates a quick run); idle stacks cost next to nothing.
  const wantsEdgeOnly = ["hot", "breakdown", "recording", "size", "cold", "memory"].some((id) =>
    want(id as SectionId),
  );
  const wantsFull = want("origin") || want("propagation") || want("fleet") || want("recording");
  const [mfStart, pairStart, fullStart, mfFullStart] = await Promise.allSettled([
    wantsEdgeOnly ? startEdgeMiniflare(ctx) : Promise.resolve(undefined),
    want("hot") ? startWranglerPair(ctx) : Promise.resolve(undefined),
    want("origin") || want("propagation") ? startFullStack(ctx) : Promise.resolve(undefined),
    wantsFull ? startMiniflareFullStack(ctx) : Promise.resolve(undefined),
  ]);
  const reasonOf = (result: PromiseRejectedResult) =>
    result.reason instanceof Error ? (result.reason.message.split("\n")[0] ?? "") : String(result.reason);
  const mf = mfStart.status === "fulfilled" ? mfStart.value : undefined;
  const pair = pairStart.status === "fulfilled" ? pairStart.value : undefined;
  const full = fullStart.status === "fulfilled" ? fullStart.value : undefined;
  const mfFull = mfFullStart.status === "fulfilled" ? mfFullStart.value : undefined;
  try {
    if (mfStart.status === "rejected") {
      for (const id of ["hot", "breakdown", "size", "cold", "memory"] as const) {
        if (want(id)) done(skippedSection(id, id, `Miniflare stack did not start: ${reasonOf(mfStart)}`));
      }
    }
    if (want("hot") && mf) {
      const edgeStack = mf;
      done(
        await attempt("hot", "1. Hot path", async () => {
          const rows: HotRow[] = [];
          if (pair) rows.push(...(await hotOnWrangler(ctx, pair)));
          rows.push(...(await hotOnMiniflare(ctx, edgeStack)));
          if (machine.nginx && !ctx.quick) {
            const nginx = await startNginx(ctx);
            try {
              rows.push(...(await hotOnNginx(ctx, nginx)));
            } finally {
              await nginx.stop();
            }
          }
          const section = hotSection(rows, ctx);
          if (pairStart.status === "rejected")
            section.notes.push(`wrangler dev rows missing: ${reasonOf(pairStart)}`);
          return section;
        }),
      );
    }
    await pair?.stop();
    // §1c's edge-only pair runs on this stack; its section is reported with the full-stack pair.
    let recordingEdge: Awaited<ReturnType<typeof recordingOnEdge>> | null = null;
    if (want("recording") && mf) {
      try {
        recordingEdge = await recordingOnEdge(ctx, mf);
      } catch (error) {
        progress(
          "recording",
          "edge-only pair failed",
          error instanceof Error ? error.message : String(error),
        );
      }
    }
    if (mf) {
      const edgeStack = mf;
      if (want("breakdown"))
        done(await attempt("breakdown", "1b. Breakdown", () => breakdownSection(ctx, edgeStack)));
      if (want("size")) done(await attempt("size", "2. Size", () => sizeSection(ctx, edgeStack)));
      if (want("cold")) done(await attempt("cold", "3. Cold paths", () => coldSection(ctx, edgeStack)));
      if (want("memory")) done(await attempt("memory", "7. Memory", () => memorySection(ctx, edgeStack)));
      await mf.dispose();
    }
    // Origin and propagation run on both full stacks; the fleet on plain Miniflare only, where the
    // edge has the headroom for thousands of clients (under `wrangler dev` on 2 CPUs it does not).
    const fullStacks: Array<[PromiseSettledResult<FullStack | undefined>, readonly SectionId[]]> = [
      [fullStart, ["origin", "propagation"]],
      [mfFullStart, ["recording", "origin", "propagation", "fleet"]],
    ];
    for (const [start, ids] of fullStacks) {
      if (start.status === "rejected") {
        for (const id of ids)
          if (want(id)) done(skippedSection(id, id, `full stack did not start: ${reasonOf(start)}`));
        continue;
      }
      const stack = start.value;
      if (!stack) continue;
      if (want("recording") && ids.includes("recording"))
        done(
          await attempt("recording", "1c. Fleet recording cost", () =>
            recordingSection(ctx, stack, recordingEdge),
          ),
        );
      if (want("origin")) done(await attempt("origin", "4. Origin", () => originSection(ctx, stack)));
      if (want("propagation"))
        done(await attempt("propagation", "5. Propagation", () => propagationSection(ctx, stack)));
      if (want("fleet") && ids.includes("fleet"))
        done(await attempt("fleet", "6. Fleet", () => fleetSection(ctx, stack)));
      await stack.stop();
    }
    // The production model starts its own origin and one Miniflare per location, after the rest.
    if (want("locations"))
      done(
        await attempt("locations", "9. Production model", () => {
          const params = locationsParams(ctx);
          if (args.lagMaxS !== undefined) params.lagMaxMs = args.lagMaxS * 1000;
          return locationsSection(ctx, params);
        }),
      );
  } finally {
    // Each stop is idempotent: it signals only the process groups this run started.
    await Promise.allSettled([mf?.dispose(), pair?.stop(), full?.stop(), mfFull?.stop()]);
    sources.remove();
    ctx.cleanup();
  }

  const results = {
    startedAt,
    finishedAt: new Date().toISOString(),
    quick: args.quick,
    tool: args.tool,
    machine,
    sections,
  };
  const resultsDir = join(REPO_ROOT, "bench", "results");
  mkdirSync(resultsDir, { recursive: true });
  const jsonPath = join(resultsDir, `${stamp}${args.quick ? "-quick" : ""}.json`);
  writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
  const mdPath = args.quick ? join(resultsDir, `${stamp}-quick.md`) : join(REPO_ROOT, "BENCHMARKS.md");
  writeFileSync(mdPath, renderMarkdown(results, jsonPath.slice(REPO_ROOT.length + 1)));
  console.log(`\nwrote ${jsonPath}\nwrote ${mdPath}`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
