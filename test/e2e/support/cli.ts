/**
 * The real `fleetconf` executable (cli/bin.mjs, a child Node process) run to completion, as an
 * operator would run it: its exit code and whole output, never more than `timeoutMs`.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "../../../scripts/lib/wrangler";

export interface BinRun {
  code: number;
  stdout: string;
  stderr: string;
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
