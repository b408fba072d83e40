/**
 * `npm run deploy`: deploys the edge, then the origin, with wrangler. Refuses, before any network
 * call, while the configs still carry the local KV placeholder or wrangler has no credentials.
 *
 *   npm run deploy                      both workers
 *   npm run deploy -- --bootstrap       the very first deploy (the workers bind each other)
 *   npm run deploy -- --dry-run         build both bundles, upload nothing
 *
 * Other arguments go to `wrangler deploy`. Secrets, routes and purge settings: docs/deploy.md.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { boundServices, credentialSource, kvIdProblems, withoutServiceBinding } from "./lib/deploy-checks";
import { REPO_ROOT, WORKERS, WRANGLER_BIN, wranglerEnv } from "./lib/wrangler";

const args = process.argv.slice(2);
const bootstrap = args.includes("--bootstrap");
const extra = args.filter((arg) => arg !== "--bootstrap");
const dryRun = extra.includes("--dry-run");
// Written beside wrangler.toml so its relative `main` still resolves; git-ignored, removed after.
const BOOTSTRAP_CONFIG = "wrangler.bootstrap.toml";

function refuse(lines: string[]): never {
  console.error(
    ["[deploy] refusing to deploy:", ...lines.map((l) => `  - ${l}`), "  See docs/deploy.md."].join("\n"),
  );
  process.exit(1);
}

const configs: Record<string, string> = Object.fromEntries(
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

function deploy(label: string, config: string): void {
  console.log(`[deploy] ${label}: wrangler deploy -c ${config} ${extra.join(" ")}`.trimEnd());
  const result = spawnSync(process.execPath, [WRANGLER_BIN, "deploy", "-c", config, ...extra], {
    cwd: REPO_ROOT,
    env: wranglerEnv(),
    stdio: "inherit",
  });
  if (result.status !== 0) {
    console.error(`[deploy] ${label} failed (exit ${result.status ?? result.signal}); stopping here.`);
    if (!bootstrap && !dryRun) {
      console.error(
        "[deploy] If wrangler says a service binding could not be resolved (error 10143), this is the first\n" +
          "         deploy: run `npm run deploy -- --bootstrap`.",
      );
    }
    process.exit(result.status || 1);
  }
}

const edge = WORKERS.edge.config;
const edgeConfig = configs[edge] ?? "";
const edgeBindsOrigin = boundServices(edgeConfig).includes(WORKERS.origin.name);
if (bootstrap && edgeBindsOrigin) {
  // The edge binds the origin and the origin binds the edge: ship the edge once without its
  // ORIGIN binding, then the origin, then the edge as configured.
  writeFileSync(join(REPO_ROOT, BOOTSTRAP_CONFIG), withoutServiceBinding(edgeConfig, WORKERS.origin.name));
  try {
    deploy("edge (bootstrap, without its ORIGIN binding)", BOOTSTRAP_CONFIG);
  } finally {
    rmSync(join(REPO_ROOT, BOOTSTRAP_CONFIG), { force: true });
  }
  deploy("origin", WORKERS.origin.config);
  deploy("edge", edge);
} else {
  deploy("edge", edge);
  deploy("origin", WORKERS.origin.config);
}

if (!dryRun) {
  console.log(
    "[deploy] done. Secrets are per worker (`wrangler secret put NAME -c <config>`): the edge needs\n" +
      "  PUBLIC_JWKS and PURGE_SECRET; the origin SIGNING_KEYS, TOKEN_KEYS, PUBLIC_JWKS, ADMIN_JWT_SECRET\n" +
      "  (or ADMIN_JWKS_URL), PURGE_SECRET and, with PURGE_MODE=zone, PURGE_API_TOKEN.",
  );
}
