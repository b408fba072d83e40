/**
 * A frozen copy of the workers' sources for one run. `wrangler dev` watches its sources and
 * reloads on every save, and other people edit this tree while a 20-minute run goes on: a reload
 * mid-run restarts the isolate (cold caches) or, on a half-written file, kills the worker. The
 * run therefore builds and serves a copy taken at its start, laid out like the repo (so the
 * wrangler configs and relative imports work unchanged), under the git-ignored `.build/`, where
 * `node_modules` still resolves from the repo root.
 */
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { REPO_ROOT } from "./wrangler";

const COPIED = [
  "core",
  "worker",
  "origin",
  "bench/bare-worker",
  "bench/variants",
  "bench/fleet-sink",
  "bench/lib/document.ts",
  "wrangler.toml",
];
const SKIPPED = new Set([".wrangler", ".build", "node_modules", ".dev.vars"]);

export interface SourceSnapshot {
  root: string;
  remove(): void;
}

export function snapshotSources(stamp: string): SourceSnapshot {
  const root = join(REPO_ROOT, ".build", "bench", `src-${stamp}`);
  mkdirSync(root, { recursive: true });
  for (const path of COPIED) {
    cpSync(join(REPO_ROOT, path), join(root, path), {
      recursive: true,
      filter: (source) => !SKIPPED.has(basename(source)),
    });
  }
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}
