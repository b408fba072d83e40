/**
 * How `npm run build` bundles the CLI (scripts/build.ts), kept here so the import-graph test
 * (test/unit/cli/lazy-commands.test.ts) checks the very build that ships.
 *
 * Code splitting: cli/main.ts imports each command's module with `import()` when it runs, and the
 * bundle keeps those boundaries: dist/cli.mjs is the entry (package `bin`), dist/cli/*.mjs the
 * chunks it loads, so `fleetconf agent` never reads the admin commands or the zod schemas of
 * origin/contract.ts (BENCHMARKS.md, "Agent start-up and memory").
 */
import { join } from "node:path";
import type { BuildOptions } from "esbuild";

export function cliBuildOptions(root: string): BuildOptions {
  return {
    entryPoints: { cli: join(root, "cli", "bin.ts") },
    outdir: join(root, "dist"),
    chunkNames: "cli/[name]-[hash]",
    outExtension: { ".js": ".mjs" },
    bundle: true,
    splitting: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // Full minification: start-up pays for parsing every byte (BENCHMARKS.md, "Agent start-up and
    // memory"); the linked source map gives stack traces their names back
    // (`node --enable-source-maps`).
    minify: true,
    legalComments: "linked",
    sourcemap: "linked",
    // Every output file gets it (esbuild has no per-entry banner); in a chunk it is a comment.
    banner: { js: "#!/usr/bin/env node" },
    logLevel: "warning",
  };
}
