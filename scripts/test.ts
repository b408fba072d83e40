/**
 * `npm test`: every gate, in order, stopping at the first failure: types, lint, unit tests (Node),
 * worker + origin tests (workerd), both bundles built as for deploy (offline dry run), e2e tests
 * (real `wrangler dev`). Ends with one plain line `N passed, N failed` over all vitest stages.
 *
 *   npm test                     all stages
 *   npm test -- --skip e2e       all but e2e (repeatable)
 *   npm test -- --only unit      just these stages (repeatable)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { REPO_ROOT, WORKERS, WRANGLER_BIN, wranglerEnv } from "./lib/wrangler";

const bin = (name: string): string => join(REPO_ROOT, "node_modules", ".bin", name);
const RESULTS = join(REPO_ROOT, ".build", "test-results");

const MINUTE = 60_000;

interface Stage {
  name: string;
  title: string;
  timeoutMs: number;
  /** Writes a vitest JSON report to count tests from. */
  vitest?: boolean;
  commands: string[][];
}

const vitestStage = (name: string, projects: string[], timeoutMs: number): Stage => ({
  name,
  timeoutMs,
  title: `vitest ${projects.join(" + ")}`,
  vitest: true,
  commands: [
    [
      bin("vitest"),
      "run",
      ...projects.flatMap((p) => ["--project", p]),
      "--reporter=default",
      "--reporter=json",
      `--outputFile.json=${join(RESULTS, `${name}.json`)}`,
    ],
  ],
});

const STAGES: Stage[] = [
  {
    name: "typecheck",
    title: "tsc --noEmit",
    timeoutMs: 5 * MINUTE,
    commands: [[bin("tsc"), "--noEmit", "-p", "."]],
  },
  { name: "lint", title: "biome check .", timeoutMs: 2 * MINUTE, commands: [[bin("biome"), "check", "."]] },
  vitestStage("unit", ["unit"], 10 * MINUTE),
  vitestStage("workers", ["worker", "origin"], 15 * MINUTE),
  {
    name: "build",
    timeoutMs: 5 * MINUTE,
    title: "wrangler deploy --dry-run (edge, origin)",
    commands: Object.entries(WORKERS).map(([part, { config }]) => [
      process.execPath,
      WRANGLER_BIN,
      "deploy",
      "--dry-run",
      "--outdir",
      join(".build", part),
      "-c",
      config,
    ]),
  },
  vitestStage("e2e", ["e2e"], 15 * MINUTE),
];

// A hung stage must fail the run rather than hold CI forever. FLEETCONF_STAGE_TIMEOUT_SCALE=2
// doubles every bound on a slow machine.
const timeoutScale = Number(process.env.FLEETCONF_STAGE_TIMEOUT_SCALE ?? "1") || 1;

const { values } = parseArgs({
  options: {
    skip: { type: "string", multiple: true, default: [] },
    only: { type: "string", multiple: true, default: [] },
  },
});
const known = new Set(STAGES.map((s) => s.name));
for (const name of [...values.skip, ...values.only]) {
  if (!known.has(name)) {
    console.error(`unknown stage ${name}; stages: ${[...known].join(", ")}`);
    process.exit(2);
  }
}
const selected = STAGES.filter(
  (s) => !values.skip.includes(s.name) && (values.only.length === 0 || values.only.includes(s.name)),
);

let current: ChildProcess | undefined;
let interrupted = false;
for (const signal of ["SIGTERM", "SIGHUP", "SIGINT"]) {
  // Ctrl-C reaches the child through the terminal too; SIGTERM/SIGHUP are passed on so vitest's
  // teardown stops its wrangler processes before we go.
  process.on(signal, () => {
    interrupted = true;
    if (current && current.exitCode === null) current.kill(signal === "SIGINT" ? "SIGINT" : "SIGTERM");
    else process.exit(130);
  });
}

function run(command: string[], timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const [file = "", ...args] = command;
    const child = spawn(file, args, { cwd: REPO_ROOT, env: wranglerEnv(), stdio: "inherit" });
    current = child;
    const timer = setTimeout(() => {
      console.error(`\n${file.split("/").pop()} ran past ${timeoutMs / 1000} s; stopping it.`);
      child.kill("SIGTERM");
      setTimeout(() => child.exitCode === null && child.kill("SIGKILL"), 10_000).unref();
    }, timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      console.error(`could not run ${file}: ${error.message}`);
      resolve(1);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

function countTests(stage: Stage): { passed: number; failed: number; missing: boolean } {
  const file = join(RESULTS, `${stage.name}.json`);
  if (!existsSync(file)) return { passed: 0, failed: 0, missing: true };
  try {
    const report: { numPassedTests?: number; numFailedTests?: number } = JSON.parse(
      readFileSync(file, "utf8"),
    );
    return { passed: report.numPassedTests ?? 0, failed: report.numFailedTests ?? 0, missing: false };
  } catch {
    return { passed: 0, failed: 0, missing: true };
  }
}

mkdirSync(RESULTS, { recursive: true });
const totals = { passed: 0, failed: 0 };
const started = Date.now();
let exitCode = 0;
for (const [index, stage] of selected.entries()) {
  console.log(`\n━━ [${index + 1}/${selected.length}] ${stage.name}: ${stage.title} ━━`);
  const stageStart = Date.now();
  if (stage.vitest) rmSync(join(RESULTS, `${stage.name}.json`), { force: true });
  let code = 0;
  for (const command of stage.commands) {
    code = await run(command, stage.timeoutMs * timeoutScale);
    if (code !== 0 || interrupted) break;
  }
  const seconds = ((Date.now() - stageStart) / 1000).toFixed(1);
  if (stage.vitest) {
    const counted = countTests(stage);
    totals.passed += counted.passed;
    totals.failed += counted.failed;
    // A crash before any test ran still has to fail the run and show up in the total.
    if (code !== 0 && counted.failed === 0) totals.failed += 1;
  }
  if (code !== 0 || interrupted) {
    console.log(`━━ ${stage.name} failed (exit ${code}) after ${seconds} s; stopping.`);
    exitCode = code || 1;
    break;
  }
  console.log(`━━ ${stage.name} ok in ${seconds} s`);
}
console.log(`\nall stages took ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`${totals.passed} passed, ${totals.failed} failed`);
process.exit(exitCode);
