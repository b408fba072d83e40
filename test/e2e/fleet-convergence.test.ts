/**
 * The fleet view end to end over real `wrangler dev` processes: 200 simulated clients with distinct
 * Config-Client-Ids poll the edge with conditional GETs; the edge batches sightings to the origin
 * through its ORIGIN service binding; the origin's fleet view must report the counts each version
 * really has within 10 s of a publish, and `fleetconf publish --wait` must return once they converge.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { runCli } from "../unit/cli/support/run-cli";
import { adminTokenFor, type OriginClient, originClient, uniqueNamespace } from "./support/http";

const stack = inject("stack");
const namespace = uniqueNamespace("fleet");
const key = `${namespace}/svc/flags`;
const CLIENTS = 200;
const REPORT_BOUND_MS = 10_000;

interface SimClient {
  id: string;
  etag: string | null;
  version: number | null;
  active: boolean;
}

const clients: SimClient[] = Array.from({ length: CLIENTS }, (_, i) => ({
  id: `sim-${namespace}-${i}`,
  etag: null,
  version: null,
  active: true,
}));

async function pollOnce(client: SimClient): Promise<void> {
  if (!client.active) return;
  const headers: Record<string, string> = { "Config-Client-Id": client.id };
  if (client.etag) headers["If-None-Match"] = client.etag;
  try {
    const res = await fetch(`${stack.edgeUrl}/v1/configs/${key}`, {
      headers,
      signal: AbortSignal.timeout(10_000),
    });
    await res.arrayBuffer();
    if (res.status === 200) {
      client.etag = res.headers.get("ETag");
      client.version = Number(res.headers.get("Config-Version"));
    }
  } catch {
    // A dropped poll is retried on the next round, as a real client would.
  }
}

/** Polls every active client about once a second, 25 at a time, until stopped. */
function startPolling(): { stop: () => Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = Date.now();
      const active = clients.filter((c) => c.active);
      for (let i = 0; i < active.length; i += 25) await Promise.all(active.slice(i, i + 25).map(pollOnce));
      await new Promise((resolve) => setTimeout(resolve, Math.max(50, 1000 - (Date.now() - started))));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** Stops some clients, and lets polls already sent finish so they hold what they hold. */
async function pause(some: SimClient[]): Promise<void> {
  for (const c of some) c.active = false;
  await new Promise((resolve) => setTimeout(resolve, 1500));
}

/** What the simulated clients really hold, newest version first. */
function realCounts(): { version: number; clients: number }[] {
  const counts = new Map<number, number>();
  for (const c of clients) if (c.version !== null) counts.set(c.version, (counts.get(c.version) ?? 0) + 1);
  return [...counts].sort((a, b) => b[0] - a[0]).map(([version, n]) => ({ version, clients: n }));
}

async function until<T>(
  what: string,
  boundMs: number,
  probe: () => Promise<T | null>,
): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  let last: unknown = null;
  while (Date.now() - started < boundMs) {
    const value = await probe();
    if (value !== null) return { value, ms: Date.now() - started };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  last = await probe();
  throw new Error(`${what} not within ${boundMs} ms (last: ${JSON.stringify(last)})`);
}

describe("fleet convergence over wrangler dev", () => {
  let admin: OriginClient;
  let token: string;
  let polling: { stop: () => Promise<void> };
  let dir: string;

  const fleet = async () => {
    const res = await admin.call("GET", `/v1/configs/${key}/-/fleet?window=60`);
    expect(res.status, res.text).toBe(200);
    return res.json as {
      clients: number;
      versions: { version: number; clients: number }[];
      current: number;
      converged: number;
    };
  };

  const cli = (args: string[]) =>
    runCli(args, { env: { FLEETCONF_ORIGIN: stack.originUrl, FLEETCONF_TOKEN: token }, cwd: dir });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "fleetconf-fleet-"));
    token = await adminTokenFor(stack);
    admin = originClient(stack, token);
    expect((await admin.setNamespace(namespace, { visibility: "public" })).status).toBe(200);
    expect((await admin.publish(key, '{"v":1}')).status).toBe(201);
    polling = startPolling();
  });

  afterAll(async () => {
    await polling?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(`reports all ${CLIENTS} clients on v1`, async () => {
    const { value } = await until("200 clients on v1", 30_000, async () => {
      const view = await fleet();
      return view.clients === CLIENTS && view.converged === 1 ? view : null;
    });
    // Plain HTTP clients send no Config-Client-Status: nothing applied or rejected is claimed.
    expect(value.versions).toEqual([{ version: 1, clients: CLIENTS, applied: 0, rejected: 0 }]);
  });

  it("reports the counts each version really has within 10 s of a publish", async () => {
    // 80 clients stop polling, so they keep v1 while the other 120 move to v2.
    await pause(clients.slice(120));
    expect((await admin.publish(key, '{"v":2}')).status).toBe(201);
    // One clock from the publish for both waits: the clients moving to v2 is part of the 10 s.
    const published = Date.now();
    const left = () => Math.max(0, REPORT_BOUND_MS - (Date.now() - published));
    await until("the active clients to hold v2", left(), async () =>
      clients.slice(0, 120).every((c) => c.version === 2) ? true : null,
    );
    expect(realCounts()).toEqual([
      { version: 2, clients: 120 },
      { version: 1, clients: 80 },
    ]);
    const { value } = await until("the fleet view to match", left(), async () => {
      const view = await fleet();
      const counts = view.versions.map(({ version, clients }) => ({ version, clients }));
      return JSON.stringify(counts) === JSON.stringify(realCounts()) ? view : null;
    });
    const elapsed = Date.now() - published;
    console.log(`fleet view matched ${elapsed} ms after the publish`);
    expect(elapsed, "publish → fleet view matching").toBeLessThanOrEqual(REPORT_BOUND_MS);
    expect(value).toMatchObject({ clients: CLIENTS, current: 2, converged: 0.6 });
  });

  it("publish --wait 95% returns once the clients converged", async () => {
    for (const c of clients) c.active = true;
    await writeFile(join(dir, "v3.json"), '{"v":3}');
    const started = Date.now();
    const run = await cli([
      "publish",
      key,
      "v3.json",
      "--wait",
      "95%",
      "--timeout",
      "60",
      "--window",
      "60",
      "--json",
    ]);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as {
      version: number;
      fleet: { converged: number; current: number };
    };
    expect(result.version).toBe(3);
    expect(result.fleet.current).toBe(3);
    expect(result.fleet.converged).toBeGreaterThanOrEqual(0.95);
    // The clients really hold it: at least 95% of them.
    expect(clients.filter((c) => c.version === 3).length).toBeGreaterThanOrEqual(0.95 * CLIENTS);
    console.log(`publish --wait 95% returned after ${Date.now() - started} ms`);
    const table = await cli(["fleet", key, "--window", "60"]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain("v3");
  });

  it("publish --wait exits 1 when the clients do not converge within --timeout", async () => {
    await pause(clients.slice(100));
    await writeFile(join(dir, "v4.json"), '{"v":4}');
    const run = await cli([
      "publish",
      key,
      "v4.json",
      "--wait",
      "95%",
      "--timeout",
      "4",
      "--window",
      "60",
      "--json",
    ]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stderr.trim().split("\n").at(-1) ?? "{}")).toMatchObject({
      error: { code: "not_converged" },
    });
  });
});
