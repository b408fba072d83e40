import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { buildSync } from "esbuild";
import { defineConfig } from "vitest/config";
import { testSecrets } from "./test/support/test-secrets.mjs";

// One set of secrets per run, shared by the edge and origin projects so tokens and signatures
// minted by one verify in the other.
const secrets = testSecrets();

// The origin's tests run the real edge beside it (its EDGE service binding and shared KV), so
// purges and publish→serve paths are exercised for real. Bundle it once per run.
buildSync({
  entryPoints: ["worker/index.ts"],
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  conditions: ["workerd", "worker", "browser"],
  mainFields: ["module", "main"],
  external: ["cloudflare:*", "node:*"],
  outfile: ".build/test-edge/index.js",
  logLevel: "error",
});

export default defineConfig({
  test: {
    projects: [
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"], environment: "node" } },
      {
        plugins: [
          cloudflareTest({
            main: "./worker/index.ts",
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: { bindings: { ...secrets } },
          }),
        ],
        test: { name: "worker", include: ["test/worker/**/*.test.ts"] },
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
        test: { name: "origin", include: ["test/origin/**/*.test.ts"] },
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
