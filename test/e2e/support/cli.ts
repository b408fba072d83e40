/**
 * The real `fleetconf` executable (cli/bin.mjs, a child Node process) run to completion, as an
 * operator would run it: its exit code and whole output, never more than `timeoutMs`.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "../../../scripts/lib/wrangler";
import { adminTokenFor, type StackUrls } from "./http";

export interface BinRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The environment an operator's shell would give `fleetconf` against the stack: origin, edge and an
 * admin token from the environment, and no `.dev.vars` (FLEETCONF_DEV_VARS names a missing file in
 * `dir`), so every credential comes from here; NO_COLOR for plain output.
 */
export async function cliEnvFor(stack: StackUrls, dir: string): Promise<NodeJS.ProcessEnv> {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    FLEETCONF_ORIGIN: stack.originUrl,
    FLEETCONF_EDGE: stack.edgeUrl,
    FLEETCONF_TOKEN: await adminTokenFor(stack),
    FLEETCONF_DEV_VARS: join(dir, "no.dev.vars"),
    NO_COLOR: "1",
  };
}

export function runBin(
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; stdin?: string; timeoutMs?: number },
): Promise<BinRun> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [join(REPO_ROOT, "cli", "bin.mjs"), ...args],
      { cwd: options.cwd, env: options.env, timeout: options.timeoutMs ?? 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (options.stdin !== undefined) child.stdin?.end(options.stdin);
    else child.stdin?.end();
  });
}
