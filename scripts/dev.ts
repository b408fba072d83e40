/**
 * `npm run dev`: the whole fleetconf stack on this machine, offline. Writes `.dev.vars` on first
 * run, starts the edge (127.0.0.1:8787) and the origin (127.0.0.1:8788) as two `wrangler dev`
 * processes sharing `.wrangler/state`, seeds a public demo config and prints a dev admin token and
 * curl lines to try. Ctrl-C (or SIGTERM) stops both. Run by `node --import tsx` (package.json), in
 * one process, so the parent-gone check below sees npm's shell, not a tsx wrapper.
 * docs/development.md explains every step.
 */
import { parseArgs } from "node:util";
import { mintAdminToken } from "../core";
import { ensureDevVars } from "./lib/dev-vars";
import { type ManagedProcess, portIsFree } from "./lib/processes";
import { seedDemo } from "./lib/seed";
import {
  bindingsConnected,
  type Part,
  REPO_ROOT,
  startWranglerDev,
  WORKERS,
  wranglerDevArgs,
  wranglerEnv,
} from "./lib/wrangler";

const USAGE = `usage: npm run dev [-- options]
  --edge-port N        edge port (default 8787, env FLEETCONF_EDGE_PORT)
  --origin-port N      origin port (default 8788, env FLEETCONF_ORIGIN_PORT)
  --inspector-port N   edge's devtools port; the origin's is N+1 (default 9230)
  --persist-to DIR     local KV / Durable Object / cache state (default .wrangler/state)
  --registry DIR       dev registry the two workers find each other in (default .wrangler/registry)
  --no-seed            do not publish the demo config`;

function fail(message: string): never {
  console.error(`[dev] ${message}`);
  process.exit(1);
}

const OPTIONS = {
  "edge-port": { type: "string", default: process.env.FLEETCONF_EDGE_PORT ?? "8787" },
  "origin-port": { type: "string", default: process.env.FLEETCONF_ORIGIN_PORT ?? "8788" },
  "inspector-port": { type: "string", default: "9230" },
  "persist-to": { type: "string", default: ".wrangler/state" },
  registry: { type: "string", default: ".wrangler/registry" },
  "no-seed": { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

function parseOptions() {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>["values"];
  try {
    parsed = parseArgs({
      options: OPTIONS,
    }).values;
  } catch (error) {
    fail(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
  }
  if (parsed.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const port = (name: "edge-port" | "origin-port" | "inspector-port"): number => {
    const value = Number(parsed[name]);
    if (!Number.isInteger(value) || value < 1 || value > 65535) fail(`--${name} must be a port number`);
    return value;
  };
  const inspector = port("inspector-port");
  return {
    edgePort: port("edge-port"),
    originPort: port("origin-port"),
    edgeInspector: inspector,
    originInspector: inspector + 1,
    persistTo: parsed["persist-to"],
    registry: parsed.registry,
    seed: !parsed["no-seed"],
  };
}

const options = parseOptions();

// Refuse early and clearly instead of letting wrangler pick another port or half-start.
const wanted: [string, number][] = [
  ["edge", options.edgePort],
  ["origin", options.originPort],
  ["edge inspector", options.edgeInspector],
  ["origin inspector", options.originInspector],
];
const busy: { what: string; port: number }[] = [];
for (const [what, port] of wanted) if (!(await portIsFree(port))) busy.push({ what, port });
if (busy.length > 0) {
  const list = busy.map(({ what, port }) => `${port} (${what})`).join(", ");
  fail(
    `port ${list} already in use on 127.0.0.1. Is another \`npm run dev\` running?\n` +
      `      Find the holder: ss -ltnp | grep -E ':(${busy.map(({ port }) => port).join("|")})\\b'\n` +
      "      or pick other ports: npm run dev -- --edge-port 8797 --origin-port 8798 --inspector-port 9240",
  );
}

let secrets: Record<string, string>;
try {
  secrets = ensureDevVars(REPO_ROOT, (message) => console.log(`[dev] ${message}`));
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
const adminSecret = secrets.ADMIN_JWT_SECRET;
if (!adminSecret) fail(".dev.vars has no ADMIN_JWT_SECRET");
const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number, text: string): string => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
const prefixes = { edge: paint(36, "[edge]  "), origin: paint(35, "[origin]") };
const env = wranglerEnv({
  WRANGLER_REGISTRY_PATH: options.registry,
  ...(color ? { FORCE_COLOR: "1" } : {}),
});

const edgeUrl = `http://127.0.0.1:${options.edgePort}`;
const originUrl = `http://127.0.0.1:${options.originPort}`;
const children: Partial<Record<Part, ManagedProcess>> = {};
let stopping = false;
async function stopAll(exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log("[dev] stopping the edge and the origin…");
  await Promise.all(Object.values(children).map((child) => child.stop()));
  console.log("[dev] stopped.");
  process.exit(exitCode);
}
process.on("SIGINT", () => stopAll(0));
process.on("SIGTERM", () => stopAll(0));
process.on("SIGHUP", () => stopAll(0));
// `npm run dev` puts `sh -c` between npm and us, and sh does not pass a SIGTERM sent to npm on:
// npm and sh die and we are re-parented. Treat losing our parent as being told to stop.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) {
    console.log("[dev] the parent process is gone");
    stopAll(0);
  }
}, 500).unref();

// Both at once; a start that collides on the fresh SQLite state is retried by startWranglerDev.
const start = (part: Part, port: number, inspectorPort: number) =>
  startWranglerDev({
    name: part,
    args: wranglerDevArgs({
      config: WORKERS[part].config,
      port,
      inspectorPort,
      persistTo: options.persistTo,
    }),
    env,
    onLine: (line) => console.log(`${prefixes[part]} ${line}`),
    onSpawn: (proc) => {
      children[part] = proc;
    },
    healthUrl: `http://127.0.0.1:${port}/healthz`,
  });
try {
  await Promise.all([
    start("edge", options.edgePort, options.edgeInspector),
    start("origin", options.originPort, options.originInspector),
  ]);
} catch (error) {
  if (!stopping) {
    console.error(`[dev] ${error instanceof Error ? error.message : String(error)}`);
    await stopAll(1);
  }
  // A signal is already stopping everything; wait for it to end the process.
  await new Promise(() => {});
}
for (const child of Object.values(children)) {
  child.exited.then((state) => {
    if (stopping) return;
    console.error(`[dev] ${child.name} exited unexpectedly (${state}); stopping the other worker.`);
    stopAll(1);
  });
}

// Give the dev-registry watchers a moment to bind the workers to each other (the seed's purge).
for (
  let i = 0;
  i < 100 && !bindingsConnected(children.edge?.lines ?? [], children.origin?.lines ?? []);
  i++
) {
  await new Promise((resolve) => setTimeout(resolve, 50));
}

const token = await mintAdminToken(adminSecret, {
  scope: "admin",
  sub: "dev",
  ttlSeconds: 12 * 3600,
});
const seeded: { etag?: string; warnings: string[] } = options.seed
  ? await seedDemo({ originUrl, edgeUrl, token })
  : { warnings: [] };
for (const warning of seeded.warnings) console.warn(paint(33, `[dev] warning: ${warning}`));

const key = "demo/web/settings";
const etag = seeded.etag ? seeded.etag.replaceAll("'", "") : '"<ETag from the first response>"';
console.log(`
${paint(1, "fleetconf dev stack is up")}
  edge    ${edgeUrl}   (read API, DESIGN §3)
  origin  ${originUrl}   (admin API, DESIGN §4)
  state   ${options.persistTo}   (reset: stop, then rm -rf ${options.persistTo})
  secrets .dev.vars (copied to origin/.dev.vars)

Dev admin token (scope admin, 12 h):
  export FLEETCONF_TOKEN='${token}'

Try:
  curl -i ${edgeUrl}/v1/configs/${key}
  curl -i -H 'If-None-Match: ${etag}' ${edgeUrl}/v1/configs/${key}
  curl -i -X PUT ${originUrl}/v1/configs/${key} \\
    -H "Authorization: Bearer $FLEETCONF_TOKEN" -H 'Content-Type: application/json' \\
    --data '{"greeting":"hello again","theme":"dark"}'

Ctrl-C stops both workers.
`);
