/**
 * `npm run build` (also run by `prepack`): the package's runnable and importable files, so an
 * installed fleetconf needs neither tsx nor TypeScript at run time.
 *   dist/cli.mjs, dist/cli/   the CLI and agent for Node >= 20: the entry (package `bin`) and the
 *                             chunks it imports per command (scripts/lib/cli-build.ts)
 *   dist/client/index.mjs     the SDK, one dependency-free ESM file for Node, Workers and browsers
 *   dist/types/**.d.ts        the SDK's declarations (`exports["./client"].types`)
 * Run with tsx: `tsx scripts/build.ts`.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { cliBuildOptions } from "./lib/cli-build";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const version = (await import(join(root, "package.json"), { with: { type: "json" } })).default.version;

rmSync(dist, { recursive: true, force: true });

await build(cliBuildOptions(root));

await build({
  entryPoints: [join(root, "client", "index.ts")],
  outfile: join(dist, "client", "index.mjs"),
  bundle: true,
  // Neutral: no Node built-ins are bundled or assumed; the on-disk cache loads node:fs lazily.
  platform: "neutral",
  format: "esm",
  target: "es2022",
  sourcemap: "linked",
  logLevel: "warning",
});

// Declarations for the SDK and the core types it re-exports.
execFileSync(
  process.execPath,
  [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", join(root, "tsconfig.client.json")],
  { stdio: "inherit" },
);

// The sources use bundler resolution (extensionless relative imports); a consumer resolving with
// Node's rules (`moduleResolution: "NodeNext"`) needs the `.js` a compiled file would have, or
// every type silently becomes `any`. tsc keeps specifiers as written, so they are completed here.
for (const file of declarationFiles(join(dist, "types"))) {
  const text = readFileSync(file, "utf8");
  const fixed = text.replace(/((?:from|import\()\s*")(\.{1,2}\/[^"]+?)(?<!\.js)(")/g, "$1$2.js$3");
  if (fixed !== text) writeFileSync(file, fixed);
}

function declarationFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return declarationFiles(path);
    return entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

console.log(`fleetconf ${version}: built dist/cli.mjs (+ dist/cli/), dist/client/index.mjs, dist/types/`);
