/**
 * A/B of an edge change: `node --experimental-websocket --import tsx bench/ab.ts [--ref HEAD]
 * [--a-entry worker/index.ts] [--rounds 5] [--seconds 3] [--status 200,304]`. Builds the edge from
 * the working tree (B) and from a git ref (A, default HEAD; `--a-entry` picks another worker of it), runs both beside the bare worker in one plain Miniflare, and
 * alternates A, B, bare and bare+hdrs (the bare worker sending the contract's headers) for `rounds` rounds on the 4 KiB hot key: medians of requests/s and CPU
 * per request, and each edge's ratio to the bare worker. For trying a hot-path change before it
 * lands; `npm run bench` is the record.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { compareVariants, type Variant } from "./lib/compare";
import { createContext, probe } from "./lib/context";
import { wrkAvailable } from "./lib/load";
import { bundleWorker, startMiniflare } from "./lib/miniflare";
import { configPath, HOT_KEY, seedBaseline } from "./lib/stacks";
import { ratio } from "./lib/stats";
import { REPO_ROOT } from "./lib/wrangler";

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

/** Exports `ref`'s core/, worker/ and bench/ under .build/ab/ (resolving packages from the repo's node_modules). */
function exportRef(ref: string): string {
  const sha = execFileSync("git", ["rev-parse", "--short", ref], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
  const dir = join(REPO_ROOT, ".build", "ab", sha);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const archive = execFileSync("git", ["archive", sha, "core", "worker", "bench"], {
    cwd: REPO_ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  execFileSync("tar", ["-x", "-C", dir], { input: archive });
  return dir;
}

async function main(): Promise<void> {
  const ref = option("ref", "HEAD");
  const rounds = Number(option("rounds", "5"));
  const seconds = Number(option("seconds", "3"));
  const statuses = option("status", "200,304").split(",");
  const stamp = new Date().toISOString().replace(/[:.]/g, "").slice(0, 15);
  const ctx = createContext({
    quick: true,
    tool: wrkAvailable() ? "wrk" : "autocannon",
    stamp: `ab-${stamp}`,
  });
  const build = join(REPO_ROOT, ".build", "ab");
  const refRoot = exportRef(ref);
  const bindings = {
    PUBLIC_JWKS: ctx.secrets.PUBLIC_JWKS,
    PURGE_SECRET: ctx.secrets.PURGE_SECRET,
    BUILD_VERSION: "ab",
  };
  const stack = await startMiniflare(
    [
      {
        name: "a",
        scriptPath: bundleWorker("worker/index.ts", join(build, "a.js"), refRoot),
        kv: true,
        bindings,
      },
      { name: "b", scriptPath: bundleWorker("worker/index.ts", join(build, "b.js")), kv: true, bindings },
      { name: "bare", scriptPath: bundleWorker("bench/bare-worker/index.ts", join(build, "bare.js")) },
    ],
    ctx.dir("miniflare"),
    () => undefined,
  );
  try {
    await seedBaseline(await stack.kv("a"), ctx.secrets.SIGNING_KEYS);
    const url = (worker: string) =>
      worker === "bare+hdrs"
        ? `${stack.urls.bare}/contract${configPath(HOT_KEY)}`
        : `${stack.urls[worker]}${configPath(HOT_KEY)}`;
    const etags = new Map<string, string>();
    const workers = ["a", "b", "bare", "bare+hdrs"];
    for (const worker of workers) {
      const first = await probe(url(worker));
      if (first.status !== 200 || !first.etag) throw new Error(`${worker}: GET answered ${first.status}`);
      etags.set(worker, first.etag);
    }
    console.log(`A = ${ref} (${refRoot}), B = working tree; ${rounds} rounds of ${seconds} s, ${ctx.tool}`);
    for (const status of statuses) {
      const variants: Variant[] = workers.map(
        (worker): Variant => ({
          label: worker,
          url: url(worker),
          headers:
            status === "304" ? { "If-None-Match": etags.get(worker) ?? "" } : ({} as Record<string, string>),
          cpuPids: stack.pids,
        }),
      );
      const results = await compareVariants(variants, {
        section: `ab ${status}`,
        rounds,
        durationS: seconds,
        connections: 32,
        tool: ctx.tool,
        warmupS: 1,
      });
      const bare = results.get("bare");
      const full = results.get("bare+hdrs");
      for (const worker of ["a", "b"]) {
        const r = results.get(worker);
        if (!r || !bare || !full) continue;
        console.log(
          `${status} ${worker === "a" ? `A ${ref}` : "B tree"}: ${r.rps} req/s (${ratio(r.rps, bare.rps)}× bare ${bare.rps}, ` +
            `${ratio(r.rps, full.rps)}× bare+hdrs ${full.rps}), CPU ${r.cpuUs} µs/req (bare ${bare.cpuUs}, ` +
            `bare+hdrs ${full.cpuUs}), p99 ${r.p99} ms (bare ${bare.p99})`,
        );
      }
    }
  } finally {
    await stack.dispose();
    ctx.cleanup();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
