/**
 * A throwaway Varnish 7 (Debian's `varnishd`) in front of the edge: its own working dir (`-n`),
 * the VCL docs/shared-caches.md recommends (read from the page, the backend pointed at the edge),
 * a free 127.0.0.1 port, run in the foreground (`-F`) in its own process group with a bounded
 * start wait, and stopped with the test. `varnishstat -n <dir> -1` reads its counters.
 */
import { execFile } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import {
  freePort,
  type ManagedProcess,
  registerTempDir,
  releaseTempDir,
  sleep,
  startProcess,
} from "../../../scripts/lib/processes";
import { documentedConfig, hostAndPort } from "./documented-config";

const run = promisify(execFile);
const START_TIMEOUT_MS = 30_000;

function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/sbin", "/usr/bin"];
  return dirs.map((dir) => join(dir, name)).find((path) => existsSync(path));
}

/** `varnishd` and `varnishstat`, or an error saying how to install them (the test must fail, not skip). */
export function requireVarnish(): { varnishd: string; varnishstat: string } {
  const varnishd = findBinary("varnishd");
  const varnishstat = findBinary("varnishstat");
  if (!varnishd || !varnishstat) {
    throw new Error(
      "the Varnish e2e test needs Debian's varnish 7 (`varnishd` and `varnishstat` on PATH or in /usr/sbin): " +
        "apt-get install -y varnish (.ci/run installs it)",
    );
  }
  return { varnishd, varnishstat };
}

export interface VarnishCache {
  url: string;
  /** The generated VCL, for failure messages. */
  vcl: string;
  /** Current values of Varnish counters, e.g. `MAIN.cache_hit`, `MAIN.n_object`. */
  stats(names: string[]): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

export async function startVarnish(upstream: string): Promise<VarnishCache> {
  const { varnishd, varnishstat } = requireVarnish();
  const dir = mkdtempSync(join(tmpdir(), "fleetconf-varnish-"));
  registerTempDir(dir);
  const workDir = join(dir, "work");
  const logFile = join(dir, "varnishd.log");
  const edge = hostAndPort(upstream);
  const vcl = documentedConfig("vcl", [
    ['.host = "127.0.0.1";', `.host = "${edge.host}";`],
    ['.port = "8787";', `.port = "${edge.port}";`],
  ]);
  const vclFile = join(dir, "fleetconf.vcl");
  writeFileSync(vclFile, vcl);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc: ManagedProcess = startProcess(
    "varnishd",
    varnishd,
    [
      "-F",
      // No privilege separation: the test's user owns the working dir (root or not).
      "-j",
      "none",
      "-n",
      workDir,
      "-a",
      `127.0.0.1:${port}`,
      // No management port: nothing listens beyond the one address above.
      "-T",
      "none",
      "-s",
      "malloc,32m",
      "-f",
      vclFile,
      // A small thread pool: the machine is shared; long-polls hold one thread each.
      "-p",
      "thread_pools=1",
      "-p",
      "thread_pool_min=10",
      "-p",
      "thread_pool_max=1000",
    ],
    { cwd: dir, env: process.env, onLine: (line) => appendFileSync(logFile, `${line}\n`) },
  );
  const cleanUp = async () => {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
    releaseTempDir(dir);
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (proc.hasExited() || Date.now() > deadline) {
      const output = existsSync(logFile) ? readFileSync(logFile, "utf8") : "";
      await cleanUp();
      throw new Error(
        `varnishd did not start on ${url} within ${START_TIMEOUT_MS} ms (exit: ${String(proc.exitState())}):\n${output}\nVCL:\n${vcl}`,
      );
    }
    try {
      const probe = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
      await probe.body?.cancel();
      if (probe.status === 200) break;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  return {
    url,
    vcl,
    async stats(names) {
      const args = ["-n", workDir, "-1", ...names.flatMap((name) => ["-f", name])];
      const { stdout } = await run(varnishstat, args, { timeout: 10_000 });
      const values: Record<string, number> = {};
      for (const line of stdout.split("\n")) {
        const [name, value] = line.trim().split(/\s+/);
        if (name && value !== undefined) values[name] = Number(value);
      }
      for (const name of names) {
        if (values[name] === undefined) throw new Error(`varnishstat has no counter ${name}:\n${stdout}`);
      }
      return values;
    },
    stop: cleanUp,
  };
}
