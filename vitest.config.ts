import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { buildSync } from "esbuild";
import { defineConfig } from "vitest/config";
import { generateSecrets } from "./scripts/lib/secrets";

// One set of secrets per run, shared by the edge and origin projects so tokens and signatures
// minted by one verify in the other.
const secrets = generateSecrets();

// The origin's tests run the real edge beside it (its EDGE service binding and shared KV), so
// purges and publish→serve paths are exercised for real. Bundle it once per run.
const bundle = (entry: string, outfile: string) =>
  buildSync({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    // "browser" first, as wrangler's bundler does: packages such as object-hash (used by
    // @openfeature/flagd-core) ship a self-contained browser build beside a Node one.
    mainFields: ["browser", "module", "main"],
    external: ["cloudflare:*", "node:*"],
    outfile,
    logLevel: "error",
  });
bundle("worker/index.ts", ".build/test-edge/index.js");
// The edge's tests run the real origin beside it (its ORIGIN service binding, same KV), so fleet
// sightings really travel edge → origin → FleetStore. Its purges go to an unreachable zone API:
// these tests never need the edge purged by the origin.
bundle("origin/index.ts", ".build/test-origin/index.js");

// A hang guard, not a speed check (speed is measured by `npm run bench`): the first request of each
// workerd test file loads the worker's whole module graph through the pool's module runner —
// 4.5–6 s for the origin (hono, zod, OpenAPI) on a quiet 2-core machine, measured by timing a
// first and a second GET /healthz in one file (5.4 s, then 7 ms) — so vitest's 5 s default failed
// first tests at random under load.
const WORKERD_TEST_TIMEOUT_MS = 30_000;

export default defineConfig({
  test: {
    projects: [
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"], environment: "node" } },
      {
        plugins: [
          cloudflareTest({
            main: "./worker/index.ts",
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: { ...secrets },
              serviceBindings: { ORIGIN: "fleetconf-origin" },
              workers: [
                {
                  name: "fleetconf-origin",
                  modules: true,
                  scriptPath: ".build/test-origin/index.js",
                  compatibilityDate: "2026-04-26",
                  compatibilityFlags: ["nodejs_compat"],
                  kvNamespaces: { CONFIGS: "fleetconf-configs-local" },
                  durableObjects: {
                    NAMESPACES: { className: "NamespaceStore", useSQLite: true },
                    FLEET: { className: "FleetStore", useSQLite: true },
                    REGISTRY: { className: "NamespaceRegistry", useSQLite: true },
                  },
                  bindings: {
                    ...secrets,
                    BUILD_VERSION: "test",
                    PURGE_MODE: "zone",
                    PURGE_ZONE_ID: "testzone",
                    PURGE_API_TOKEN: "unused",
                    PURGE_API_BASE: "http://127.0.0.1:9",
                  },
                },
              ],
            },
          }),
        ],
        test: { name: "worker", include: ["test/worker/**/*.test.ts"], testTimeout: WORKERD_TEST_TIMEOUT_MS },
      },
      {
        plugins: [
          cloudflareTest({
            main: "./origin/index.ts",
            wrangler: { configPath: "./origin/wrangler.toml" },
            miniflare: {
              bindings: { ...secrets },
              workers: [
                {
                  name: "fleetconf-edge",
                  modules: true,
                  scriptPath: ".build/test-edge/index.js",
                  compatibilityDate: "2026-04-26",
                  compatibilityFlags: ["nodejs_compat"],
                  kvNamespaces: { CONFIGS: "fleetconf-configs-local" },
                  bindings: { ...secrets, BUILD_VERSION: "test", MEMORY_CACHE_BYTES: "33554432" },
                },
              ],
            },
          }),
        ],
        test: { name: "origin", include: ["test/origin/**/*.test.ts"], testTimeout: WORKERD_TEST_TIMEOUT_MS },
      },
      {
        // Real `wrangler dev` processes over HTTP (test/e2e/support/stack.ts). One shared stack
        // per run; files run one at a time because they share it and the machine's CPUs.
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/e2e/support/global-setup.ts"],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
