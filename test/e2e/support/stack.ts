/**
 * A real fleetconf stack for end-to-end tests: the edge and the origin as two `wrangler dev`
 * processes on free 127.0.0.1 ports, sharing one temporary `--persist-to` (so one local KV) and
 * fresh secrets. Each stack gets its own dev registry (`WRANGLER_REGISTRY_PATH`), so the origin's
 * `EDGE` service binding finds *this* stack's `fleetconf-edge` and never another stack's or a
 * developer's `npm run dev`, which all register under the same worker name.
 */
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import {
  freePorts,
  type ManagedProcess,
  registerTempDir,
  releaseTempDir,
  sleep,
} from "../../../scripts/lib/processes";
import type { FleetconfSecrets as TestSecrets } from "../../../scripts/lib/secrets";
import { EDGE_SECRET_NAMES, generateSecrets, renderDotenv } from "../../../scripts/lib/secrets";
import {
  bindingsConnected,
  REPO_ROOT,
  startWranglerDev,
  WORKERS,
  wranglerDevArgs,
  wranglerEnv,
} from "../../../scripts/lib/wrangler";
import { mintTestAdminToken } from "../../support/admin-token";

export { REPO_ROOT };

export interface StackOptions {
  /** Reuse these secrets instead of generating fresh ones. */
  secrets?: TestSecrets;
  /** Extra plain-text vars (`--var NAME:value`), e.g. `{ MEMORY_CACHE_BYTES: "0" }`. */
  edgeVars?: Record<string, string>;
  originVars?: Record<string, string>;
  /** How long each worker may take to answer `/healthz`. Default 90 s (cold starts on 2 CPUs). */
  startTimeoutMs?: number;
  /** Keep the temp dir (state + logs) after `stop()`; also set by FLEETCONF_E2E_KEEP=1. */
  keepTemp?: boolean;
  /** Copy the combined log here on `stop()` (the temp dir is removed), e.g. for CI artefacts. */
  saveLogTo?: string;
}

export type Part = "edge" | "origin";

export interface Stack {
  edgeUrl: string;
  originUrl: string;
  secrets: TestSecrets;
  /** Mints an HS256 admin token (1 h) for this stack's origin. */
  adminToken(scope?: string): Promise<string>;
  /** Both workers' output, each line prefixed `[edge]` or `[origin]`. */
  logFile: string;
  /** Output lines of one worker's current process. */
  logLines(part: Part): string[];
  /** The temp dir holding state, secrets, logs and the dev registry (removed by `stop()`). */
  tempDir: string;
  /** Process-group ids of the running workers (wrangler, workerd and helpers in each). */
  processGroups(): number[];
  stop(): Promise<void>;
  stopEdge(): Promise<void>;
  startEdge(): Promise<void>;
  /**
   * Restarts both workers over the same state with new secrets (a key rotation, as an operator
   * would deploy it); `secrets` then holds the new ones.
   */
  restartWith(secrets: TestSecrets): Promise<void>;
}

interface WorkerSpec {
  part: Part;
  port: number;
  inspectorPort: number;
  envFile: string;
  vars: Record<string, string>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const secrets = options.secrets ?? generateSecrets();
  const keepTemp = options.keepTemp ?? process.env.FLEETCONF_E2E_KEEP === "1";
  const timeoutMs = options.startTimeoutMs ?? 90_000;
  const dir = mkdtempSync(join(tmpdir(), "fleetconf-e2e-"));
  // Removed by stop(); if the test process dies first, by the exit hook or the watchdog.
  if (!keepTemp) registerTempDir(dir);
  const registry = join(dir, "registry");
  const logFile = join(dir, "stack.log");
  mkdirSync(registry);
  writeFileSync(logFile, "");
  const log = (line: string) => appendFileSync(logFile, `${line}\n`);

  // The edge gets only what it gets in production (docs/deploy.md): no private key, no admin secret.
  const edgeEnv = join(dir, "edge.env");
  const originEnv = join(dir, "origin.env");
  const writeSecrets = (values: TestSecrets) => {
    const edgeSecrets = Object.fromEntries(EDGE_SECRET_NAMES.map((name) => [name, values[name]]));
    writeFileSync(edgeEnv, renderDotenv(edgeSecrets, "e2e edge secrets"), { mode: 0o600 });
    writeFileSync(originEnv, renderDotenv({ ...values }, "e2e origin secrets"), { mode: 0o600 });
  };
  writeSecrets(secrets);

  const [edgePort = 0, originPort = 0, edgeInspector = 0, originInspector = 0] = await freePorts(4);
  const specs: Record<Part, WorkerSpec> = {
    edge: {
      part: "edge",
      port: edgePort,
      inspectorPort: edgeInspector,
      envFile: edgeEnv,
      vars: options.edgeVars ?? {},
    },
    origin: {
      part: "origin",
      port: originPort,
      inspectorPort: originInspector,
      envFile: originEnv,
      vars: options.originVars ?? {},
    },
  };
  const env = wranglerEnv({
    WRANGLER_REGISTRY_PATH: registry,
    WRANGLER_LOG_PATH: join(dir, "wrangler-logs"),
    NO_COLOR: "1",
    FORCE_COLOR: "0",
  });

  const processes: Partial<Record<Part, ManagedProcess>> = {};
  const boot = async (spec: WorkerSpec): Promise<void> => {
    const args = wranglerDevArgs({
      config: WORKERS[spec.part].config,
      port: spec.port,
      inspectorPort: spec.inspectorPort,
      persistTo: join(dir, "state"),
      envFile: spec.envFile,
      vars: spec.vars,
    });
    try {
      const proc = await startWranglerDev({
        name: spec.part,
        args,
        env,
        onLine: (line) => log(`[${spec.part}] ${line}`),
        onSpawn: (started) => {
          processes[spec.part] = started;
        },
        healthUrl: `http://127.0.0.1:${spec.port}/healthz`,
        timeoutMs,
      });
      // The origin reaches the edge through the registry entry the edge writes once it listens.
      if (spec.part === "edge") await waitForFile(join(registry, WORKERS.edge.name), proc);
    } catch (error) {
      throw new Error(`${String(error)}\n--- ${logFile} (tail) ---\n${tail(logFile)}`);
    }
  };
  // Each worker's registry watcher notices the other a moment after its file appears, and a call
  // sent before then fails (a purge is retried by the origin): wait until wrangler reports the
  // bindings connected (the origin's EDGE, and the edge's ORIGIN when it has one).
  const waitForEdgeBinding = async (): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (bindingsConnected(processes.edge?.lines ?? [], processes.origin?.lines ?? [])) return;
      await sleep(50);
    }
    log("[harness] wrangler never reported the service bindings as [connected]; continuing");
  };
  const stopPart = async (part: Part): Promise<void> => {
    const proc = processes[part];
    delete processes[part];
    await proc?.stop();
  };
  const stopAll = () => Promise.all([stopPart("edge"), stopPart("origin")]);

  try {
    await Promise.all([boot(specs.edge), boot(specs.origin)]);
    await waitForEdgeBinding();
  } catch (error) {
    await stopAll();
    if (!keepTemp) {
      rmSync(dir, { recursive: true, force: true });
      releaseTempDir(dir);
    }
    throw error;
  }

  let stopped = false;
  const stack: Stack = {
    edgeUrl: `http://127.0.0.1:${edgePort}`,
    originUrl: `http://127.0.0.1:${originPort}`,
    secrets,
    logFile,
    adminToken: (scope = "admin") =>
      mintTestAdminToken(stack.secrets.ADMIN_JWT_SECRET, scope, { ttlSeconds: 3600, sub: "e2e" }),
    logLines: (part) => [...(processes[part]?.lines ?? [])],
    tempDir: dir,
    processGroups: () => Object.values(processes).map((proc) => proc.pid),
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopAll();
      if (options.saveLogTo) {
        mkdirSync(dirname(options.saveLogTo), { recursive: true });
        copyFileSync(logFile, options.saveLogTo);
      }
      if (keepTemp) console.log(`fleetconf e2e: kept ${dir}`);
      else {
        rmSync(dir, { recursive: true, force: true });
        releaseTempDir(dir);
      }
    },
    stopEdge: () => stopPart("edge"),
    async startEdge() {
      if (processes.edge) throw new Error("the edge is already running");
      await boot(specs.edge);
      await waitForEdgeBinding();
    },
    async restartWith(next) {
      await stopAll();
      writeSecrets(next);
      stack.secrets = next;
      await Promise.all([boot(specs.edge), boot(specs.origin)]);
      await waitForEdgeBinding();
    },
  };
  return stack;
}

function tail(logFile: string, lines = 40): string {
  try {
    return readFileSync(logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

async function waitForFile(path: string, proc: ManagedProcess, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline || proc.hasExited()) {
      throw new Error(`${proc.name} never registered itself in its dev registry (${path})`);
    }
    await sleep(50);
  }
}
