#!/usr/bin/env node
/**
 * `npm run deploy`: deploys the edge, then the origin (whose EDGE service binding needs the edge
 * to exist), with wrangler. Refuses, before any network call, while the configs still carry the
 * local KV placeholder or wrangler has no credentials. Extra arguments go to `wrangler deploy`
 * (e.g. `npm run deploy -- --dry-run`). Secrets, routes and purge settings: docs/deploy.md.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { credentialSource, kvIdProblems } from "./lib/deploy-checks.mjs";
import { REPO_ROOT, WORKERS, WRANGLER_BIN, wranglerEnv } from "./lib/wrangler.mjs";

const extra = process.argv.slice(2);
const dryRun = extra.includes("--dry-run");

function refuse(lines) {
  console.error(
    ["[deploy] refusing to deploy:", ...lines.map((l) => `  - ${l}`), "  See docs/deploy.md."].join("\n"),
  );
  process.exit(1);
}

const configs = Object.fromEntries(
  Object.values(WORKERS).map(({ config }) => [config, readFileSync(join(REPO_ROOT, config), "utf8")]),
);
if (!dryRun) {
  const problems = kvIdProblems(configs);
  if (problems.length > 0) refuse(problems);
  const credentials = credentialSource();
  if (!credentials) {
    refuse([
      "wrangler is not logged in: run `npx wrangler login`, or set CLOUDFLARE_API_TOKEN " +
        "(and CLOUDFLARE_ACCOUNT_ID) for a token with Workers Scripts and Workers KV edit permissions.",
    ]);
  }
  console.log(`[deploy] credentials: ${credentials}`);
}

for (const [part, { config }] of Object.entries(WORKERS)) {
  console.log(`[deploy] ${part}: wrangler deploy -c ${config} ${extra.join(" ")}`.trimEnd());
  const result = spawnSync(process.execPath, [WRANGLER_BIN, "deploy", "-c", config, ...extra], {
    cwd: REPO_ROOT,
    env: wranglerEnv(),
    stdio: "inherit",
  });
  if (result.status !== 0) {
    console.error(
      `[deploy] ${part} failed (exit ${result.status ?? result.signal}); the origin was not deployed.`,
    );
    process.exit(result.status || 1);
  }
}
if (!dryRun) {
  console.log(
    "[deploy] done. Secrets are per worker (`wrangler secret put NAME -c <config>`): the edge needs\n" +
      "  PUBLIC_JWKS and PURGE_SECRET; the origin SIGNING_KEYS, TOKEN_KEYS, PUBLIC_JWKS, ADMIN_JWT_SECRET\n" +
      "  (or ADMIN_JWKS_URL), PURGE_SECRET and, with PURGE_MODE=zone, PURGE_API_TOKEN.",
  );
}
