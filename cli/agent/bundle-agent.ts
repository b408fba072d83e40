/**
 * `fleetconf agent --bundle ns/name --out DIR`: keeps one file per member of a bundle in DIR
 * (`DIR/<key without its namespace>.json`) equal to the bundle's current verified set, and runs
 * the hook ONCE per set, after every member file of that set is in place (DESIGN §8 "Agent",
 * docs/bundles.md). The set comes from the SDK's createBundleClient, which hands over whole
 * verified sets only, so the files never hold a mix the manifest did not name together.
 */
import { mkdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type BundleClientOptions, type BundleSnapshot, createBundleClient } from "../../client";
import { writeFileAtomic } from "../../client/cache-file";
import { HOOK_GRACE_MS, OUT_FILE_MODE } from "./agent";
import { HookRunner, type LogFn } from "./hook";

export interface BundleAgentOptions {
  client: BundleClientOptions;
  /** Absolute path of the folder the member files go in. */
  outDir: string;
  exec?: string;
  mode?: number;
  env: Record<string, string | undefined>;
}

/** Where a member's file goes: its key's segments after the namespace, as folders and a `.json` name. */
export function memberFileOf(outDir: string, key: string): string {
  const rest = key.split("/").slice(1);
  return `${join(outDir, ...rest)}.json`;
}

export async function runBundleAgent(options: BundleAgentOptions, signal: AbortSignal, log: LogFn) {
  const hookEnv = Object.fromEntries(
    Object.entries(options.env).filter(
      ([name]) => name !== "FLEETCONF_TOKEN" && name !== "FLEETCONF_READ_TOKEN",
    ),
  );
  const hook = options.exec ? new HookRunner(options.exec, log, hookEnv) : null;
  const bundle = options.client.bundle;
  let sets = 0;
  let latest: BundleSnapshot | null = null;
  let queue: Promise<void> = Promise.resolve();

  async function apply(set: BundleSnapshot): Promise<void> {
    if (latest !== set || signal.aborted) return;
    try {
      for (const [key, member] of Object.entries(set.members)) {
        const file = memberFileOf(options.outDir, key);
        const existing = await readFile(file).catch(() => null);
        if (existing?.equals(member.bytes)) continue;
        await mkdir(dirname(file), { recursive: true });
        await writeFileAtomic(file, member.bytes, options.mode ?? OUT_FILE_MODE);
      }
    } catch (error) {
      log("error", "bundle.write_failed", { bundle, version: set.version, error: (error as Error).message });
      return;
    }
    sets++;
    const members = Object.fromEntries(Object.entries(set.members).map(([k, m]) => [k, m.version]));
    log("info", "bundle.written", { bundle, version: set.version, dir: options.outDir, members });
    hook?.trigger({ key: bundle, version: set.version, file: options.outDir });
  }

  const client = createBundleClient(options.client);
  client.onChange((set) => {
    latest = set;
    queue = queue.then(() => apply(set));
  });
  client.onError((error) =>
    log("error", "client.error", { bundle, code: error.code, message: error.message }),
  );
  log("info", "agent.start", { bundle, edge: options.client.edge, dir: options.outDir, hook: hook !== null });
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
  log("info", "agent.stopping", { bundle });
  await client.close();
  await queue;
  await hook?.idle(HOOK_GRACE_MS);
  log("info", "agent.stop", { bundle, sets, hooks: hook?.runs ?? 0 });
  return { sets, hooks: hook?.runs ?? 0 };
}
