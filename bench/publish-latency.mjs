#!/usr/bin/env node
/**
 * Publish latency at the origin: N sequential `PUT /v1/configs/{key}` (each a new version, so
 * each one signs, commits to SQLite, writes snapshot + head to KV and purges the edge through the
 * service binding before answering) against a fresh `wrangler dev` edge + origin pair.
 *
 *   node --import tsx bench/publish-latency.mjs [--count 100] [--size 2048] [--port 18701] [--json out.json]
 *
 * Ports default to 18701 (edge), 18702 (origin), 18711/18712 (inspectors); state, secrets and the
 * dev registry live in a temp dir that is removed at the end. Prints p50/p90/p99/max in ms.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { mintAdminToken } from "../core";
import { portIsFree, sleep, stopChildrenOnSignals } from "../scripts/lib/processes";
import { EDGE_SECRET_NAMES, generateSecrets, renderDotenv } from "../scripts/lib/secrets";
import {
  lastEdgeBindingStatus,
  startWranglerDev,
  WORKERS,
  wranglerDevArgs,
  wranglerEnv,
} from "../scripts/lib/wrangler";

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "100" },
    size: { type: "string", default: "2048" },
    port: { type: "string", default: "18701" },
    warmup: { type: "string", default: "5" },
    json: { type: "string" },
  },
});
const count = Number(values.count);
const size = Number(values.size);
const warmup = Number(values.warmup);
const edgePort = Number(values.port);
const originPort = edgePort + 1;

function percentile(sorted, p) {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

/** A JSON document of about `bytes` bytes, different for every `n`. */
function documentOf(n, bytes) {
  const filler = "x".repeat(Math.max(0, bytes - 40));
  return JSON.stringify({ n, at: Date.now(), filler });
}

async function main() {
  for (const port of [edgePort, originPort, edgePort + 10, originPort + 10]) {
    if (!(await portIsFree(port))) throw new Error(`port ${port} is busy; pass --port`);
  }
  stopChildrenOnSignals();
  const dir = mkdtempSync(join(tmpdir(), "origin-bench-"));
  const secrets = generateSecrets();
  const edgeEnvFile = join(dir, "edge.env");
  const originEnvFile = join(dir, "origin.env");
  const edgeSecrets = Object.fromEntries(EDGE_SECRET_NAMES.map((name) => [name, secrets[name]]));
  writeFileSync(edgeEnvFile, renderDotenv(edgeSecrets, "bench edge"), { mode: 0o600 });
  writeFileSync(originEnvFile, renderDotenv(secrets, "bench origin"), { mode: 0o600 });
  const env = wranglerEnv({ WRANGLER_REGISTRY_PATH: join(dir, "registry"), NO_COLOR: "1" });
  const procs = [];
  const start = (part, port, envFile) =>
    startWranglerDev({
      name: part,
      env,
      args: wranglerDevArgs({
        config: WORKERS[part].config,
        port,
        inspectorPort: port + 10,
        persistTo: join(dir, "state"),
        envFile,
      }),
      onSpawn: (proc) => procs.push(proc),
      healthUrl: `http://127.0.0.1:${port}/healthz`,
    });
  try {
    await start("edge", edgePort, edgeEnvFile);
    const origin = await start("origin", originPort, originEnvFile);
    // Purges go through the dev registry's binding to the edge: measure only once it is bound.
    for (let i = 0; lastEdgeBindingStatus(origin.lines) !== "connected"; i++) {
      if (i > 600) throw new Error("the origin never reported env.EDGE as connected");
      await sleep(50);
    }

    const token = await mintAdminToken(secrets.ADMIN_JWT_SECRET, {
      scope: "admin",
      sub: "bench",
      ttlSeconds: 12 * 3600,
    });
    const key = `bench/latency/${Date.now().toString(36)}`;
    const url = `http://127.0.0.1:${originPort}/v1/configs/${key}`;
    const samples = [];
    const distribution = { complete: 0, pending: 0 };
    for (let n = 0; n < warmup + count; n++) {
      const started = performance.now();
      const res = await fetch(url, {
        method: "PUT",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: documentOf(n, size),
      });
      const body = await res.json();
      const elapsed = performance.now() - started;
      if (res.status !== 201) throw new Error(`publish ${n} answered ${res.status}: ${JSON.stringify(body)}`);
      if (n < warmup) continue;
      samples.push(elapsed);
      distribution[body.distribution] += 1;
    }
    const sorted = [...samples].sort((a, b) => a - b);
    const round = (ms) => Math.round(ms * 10) / 10;
    // The origin logs each drain (KV writes + purge) with its duration: the part of a publish
    // spent distributing, as opposed to auth, signing and the SQLite commit.
    const drains = origin.lines
      .map((line) => /"event":"distributed".*"durationMs":(\d+)/.exec(line)?.[1])
      .filter((ms) => ms !== undefined)
      .map(Number)
      .slice(-count)
      .sort((a, b) => a - b);
    const failures = origin.lines
      .map((line) => /"event":"distribution_failed","level":"warn","error":"([^"]{0,120})/.exec(line)?.[1])
      .filter((reason) => reason !== undefined);
    const result = {
      benchmark: "origin publish latency (sequential PUT, new version each)",
      count,
      warmup,
      bodyBytes: size,
      ms: {
        p50: round(percentile(sorted, 50)),
        p90: round(percentile(sorted, 90)),
        p99: round(percentile(sorted, 99)),
        max: round(sorted[sorted.length - 1]),
        mean: round(samples.reduce((a, b) => a + b, 0) / samples.length),
      },
      distribution,
      failedDrains: failures.length,
      firstFailure: failures[0] ?? null,
      drainMs: drains.length ? { p50: percentile(drains, 50), p99: percentile(drains, 99) } : null,
      cpus: (await import("node:os")).cpus().length,
      loadAverage1m: (await import("node:os")).loadavg()[0],
      node: process.version,
      at: new Date().toISOString(),
    };
    console.log(JSON.stringify(result, null, 2));
    if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await Promise.all(procs.map((proc) => proc.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
