/**
 * A throwaway nginx caching reverse proxy in front of the edge: its own prefix dir, config and
 * free port, run in the foreground in its own process group and stopped with the test. Shows what
 * a customer's shared cache does with the edge's Cache-Control and validators (RFC 9111) and with
 * long-polls. The cache's configuration is the one docs/shared-caches.md recommends, read from it.
 */
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import {
  freePort,
  type ManagedProcess,
  registerTempDir,
  releaseTempDir,
  sleep,
  startProcess,
} from "../../../scripts/lib/processes";
import { documentedConfig } from "./documented-config";

/** The nginx binary, or undefined when it is not installed (PATH, then Debian's /usr/sbin). */
export function findNginx(): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/sbin"];
  return dirs.map((dir) => join(dir, "nginx")).find((path) => existsSync(path));
}

export interface CachingProxy {
  url: string;
  /** Access-log lines: `<method> <uri> <status> cache=<upstream_cache_status> upstream=<upstream_status>`. */
  accessLog(): string[];
  stop(): Promise<void>;
}

export async function startCachingProxy(nginx: string, upstream: string): Promise<CachingProxy> {
  const prefix = mkdtempSync(join(tmpdir(), "fleetconf-nginx-"));
  registerTempDir(prefix);
  mkdirSync(join(prefix, "logs"));
  const port = await freePort();
  const accessLog = join(prefix, "logs", "access.log");
  // As root, nginx would hand its workers to `nobody`, who cannot write this private temp dir.
  const user = process.getuid?.() === 0 ? "user root root;" : "";
  const documented = documentedConfig("nginx", [
    ["/var/cache/nginx/fleetconf", `${prefix}/cache`],
    ["listen 80;", `listen 127.0.0.1:${port};`],
    ["http://127.0.0.1:8787", upstream],
  ]);
  // Each parked long-poll holds a client and an upstream connection.
  const config = `
${user}
daemon off;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 256; }
http {
  log_format fleetconf '$request_method $request_uri $status cache=$upstream_cache_status upstream=$upstream_status';
  access_log ${accessLog} fleetconf;
  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy_temp;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
${documented}
}
`;
  const configFile = join(prefix, "nginx.conf");
  writeFileSync(configFile, config);
  const proc: ManagedProcess = startProcess(
    "nginx",
    nginx,
    ["-p", prefix, "-e", `${prefix}/logs/error.log`, "-c", configFile],
    {
      cwd: prefix,
      env: process.env,
      onLine: (line) => appendFileSync(join(prefix, "logs", "stdout.log"), `${line}\n`),
    },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.hasExited() || Date.now() > deadline) {
      const errors = existsSync(join(prefix, "logs", "error.log"))
        ? readFileSync(join(prefix, "logs", "error.log"), "utf8")
        : "";
      await proc.stop();
      rmSync(prefix, { recursive: true, force: true });
      releaseTempDir(prefix);
      throw new Error(`nginx did not start on ${url}:\n${errors}`);
    }
    try {
      await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) }).then((r) => r.body?.cancel());
      break;
    } catch {
      await sleep(50);
    }
  }
  return {
    url,
    accessLog: () =>
      existsSync(accessLog)
        ? readFileSync(accessLog, "utf8")
            .split("\n")
            .filter((l) => l.length > 0)
        : [],
    async stop() {
      await proc.stop();
      rmSync(prefix, { recursive: true, force: true });
      releaseTempDir(prefix);
    },
  };
}
