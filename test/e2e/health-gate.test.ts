/**
 * The "Done when" (DESIGN §8, health-gated rollouts), with REAL agents (`node cli/bin.mjs
 * agent`, one process per host) against the wrangler-dev stack: a 30% rollout with
 * `max-rejected=10; min-clients=5` whose hook fails on 40% of the candidate's hosts aborts by
 * itself within 15 s of the threshold being crossed, every host ends on the stable content, and
 * the fleet view, the audit and `fleetconf rollout status` say why.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { bucketOf, inCohort } from "../../core";
import { type AgentProcess, spawnAgent } from "./support/agent-process";
import { runBin } from "./support/cli";
import {
  adminTokenFor,
  edgeServes,
  type OriginClient,
  originClient,
  pollUntil,
  uniqueNamespace,
} from "./support/http";

const stack = inject("stack");
const namespace = uniqueNamespace("gate");
const key = `${namespace}/web/flags`;
const STABLE = { mode: "stable", workers: 2 };
const CANDIDATE = { mode: "candidate", workers: 4 };

interface Host {
  id: string;
  candidate: boolean;
  /** Its hook exits 1 for the candidate version (2). */
  failing: boolean;
  agent?: AgentProcess;
  lines: Record<string, unknown>[];
}

/** Host ids chosen by the cohort math (core/rollout.ts): 5 on the candidate at 30%, 9 not. */
function chooseHosts(): Host[] {
  const candidates: Host[] = [];
  const others: Host[] = [];
  for (let i = 0; candidates.length < 5 || others.length < 9; i++) {
    const id = `gate-host-${i}`;
    const candidate = inCohort(bucketOf(key, id), 30);
    if (candidate && candidates.length < 5) candidates.push({ id, candidate, failing: false, lines: [] });
    if (!candidate && others.length < 9) others.push({ id, candidate, failing: false, lines: [] });
  }
  // 2 of the 5 candidate hosts (40%) fail to apply it.
  for (const host of candidates.slice(0, 2)) host.failing = true;
  return [...candidates, ...others];
}

const hosts = chooseHosts();
let admin: OriginClient;
let token: string;
let dir: string;

const outOf = (host: Host) => join(dir, `${host.id}.json`);

function startAgent(host: Host): void {
  // The hook: exit 1 on the candidate's version for a failing host, 0 otherwise.
  const hook = host.failing ? `[ "$FLEETCONF_VERSION" != 2 ]` : "true";
  host.agent = spawnAgent(
    [
      "--edge",
      stack.edgeUrl,
      "--key",
      key,
      "--out",
      outOf(host),
      "--jwks",
      join(dir, "jwks.json"),
      "--client-id",
      host.id,
      "--interval",
      "0.5",
      "--exec",
      hook,
    ],
    dir,
    host.lines,
  );
}

async function fileOf(host: Host): Promise<unknown> {
  try {
    return JSON.parse(await readFile(outOf(host), "utf8"));
  } catch {
    return null;
  }
}

beforeAll(async () => {
  token = await adminTokenFor(stack);
  admin = originClient(stack, token);
  const settings = await admin.setNamespace(namespace, { visibility: "public", maxAge: 0 });
  expect(settings.status, settings.text).toBe(200);
  dir = await mkdtemp(join(tmpdir(), "fleetconf-e2e-gate-"));
  await writeFile(join(dir, "jwks.json"), stack.secrets.PUBLIC_JWKS);
  const first = await admin.publish(key, JSON.stringify(STABLE));
  expect(first.status, first.text).toBe(201);
  await edgeServes(stack.edgeUrl, key, 1);
  for (const host of hosts) startAgent(host);
  // Every host on v1 with its hook done (applied=1 rides on its next poll).
  await pollUntil(
    async () =>
      (await Promise.all(hosts.map(fileOf))).every((f) => JSON.stringify(f) === JSON.stringify(STABLE))
        ? true
        : undefined,
    { timeoutMs: 30_000, intervalMs: 250, what: "every agent on v1" },
  );
}, 90_000);

afterAll(async () => {
  await Promise.all(hosts.map((host) => host.agent?.stop("SIGKILL")));
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("a health-gated rollout with real agents", () => {
  it("aborts by itself within 15 s of crossing max-rejected, every host ends on the stable content, and the view, audit and CLI say why", async () => {
    const start = await admin.publish(key, JSON.stringify(CANDIDATE), {
      "Config-Rollout": "30; max-rejected=10; min-clients=5",
      "Config-Message": "workers 2 to 4",
    });
    expect(start.status, start.text).toBe(201);

    // The threshold is crossed once every candidate host's hook has run on v2: then 5 report
    // (min-clients) and 2 of them (40% > 10%) rejected it. Each report rides on its next poll.
    const candidates = hosts.filter((h) => h.candidate);
    const crossedAt = await pollUntil(
      async () => {
        const ranAt = candidates.map((h) => {
          const line = h.lines.find(
            (l) => (l.event === "hook.failed" || l.event === "hook.done") && l.version === 2,
          );
          return line ? Date.parse(String(line.time)) : null;
        });
        return ranAt.every((t) => t !== null) ? Math.max(...(ranAt as number[])) : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: "every candidate host's hook ran on v2" },
    );
    for (const host of candidates) {
      const ran = host.lines.find(
        (l) => (l.event === "hook.failed" || l.event === "hook.done") && l.version === 2,
      );
      expect(ran?.event, host.id).toBe(host.failing ? "hook.failed" : "hook.done");
    }
    const rollout = await pollUntil(
      async () => {
        const res = await admin.call("GET", `/v1/configs/${key}/-/rollout`);
        const doc = res.json as { state: string; endedAt: string | null } & Record<string, unknown>;
        return doc.state === "running" ? undefined : doc;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: "the rollout to end" },
    );
    expect(rollout.state).toBe("aborted");
    expect(rollout.endedBy).toBe("fleetconf:health-gate");
    const abortedAfterMs = Date.parse(String(rollout.endedAt)) - crossedAt;
    // The figure for the report (docs/rollouts.md, "How fast").
    console.log(JSON.stringify({ event: "health_gate_e2e", abortedAfterMs }));
    expect(abortedAfterMs, "aborted within 15 s of crossing max-rejected").toBeLessThan(15_000);
    expect(rollout.autoAbort).toMatchObject({
      trigger: "health-gate",
      rejected: 2,
      maxRejected: 10,
      minClients: 5,
      reasons: [{ reason: "hook exit 1", clients: 2 }],
    });
    const auto = rollout.autoAbort as { reporting: number; rejectedPercent: number };
    expect(auto.reporting).toBe(5);
    expect(auto.rejectedPercent).toBe(40);

    // Every host ends on the stable content (published again as v3), hooks included.
    await pollUntil(
      async () =>
        (await Promise.all(hosts.map(fileOf))).every((f) => JSON.stringify(f) === JSON.stringify(STABLE))
          ? true
          : undefined,
      { timeoutMs: 30_000, intervalMs: 250, what: "every host back on the stable content" },
    );
    const current = await admin.get(key);
    expect(current.headers.get("Config-Version")).toBe("3");

    // When each host applied v3: its hook ran on it (candidate hosts, whose file held v2), or its
    // file already held v3's bytes (v1's, restored) after a hook that succeeded on them. Either
    // way the agent reports applied=3 then, giving up its held long-poll to send it at once.
    const appliedAt = await pollUntil(
      async () => {
        const at = hosts.map((h) => {
          const line = h.lines.find(
            (l) => (l.event === "hook.done" || l.event === "config.current") && l.version === 3,
          );
          return line ? Date.parse(String(line.time)) : null;
        });
        const known = at.filter((t) => t !== null);
        return known.length === hosts.length ? Math.max(...known) : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: "every host applied v3" },
    );
    let lastView: unknown;
    // The fleet view: all 14 hosts on v3 and every one reported applying it, and v2's 2
    // rejections on record (why it aborted).
    const { view, seenAt } = await pollUntil(
      async () => {
        const res = await admin.call("GET", `/v1/configs/${key}/-/fleet?window=120`);
        const body = res.json as {
          converged: number;
          versions: { version: number; clients: number; applied: number; rejected: number }[];
        };
        lastView = body;
        const v3 = body.versions.find((v) => v.version === 3);
        return v3?.clients === hosts.length && v3.applied === hosts.length
          ? { view: body, seenAt: Date.now() }
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: "the fleet view to show every host on v3, applied" },
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}; last view ${JSON.stringify(lastView)}`);
    });
    expect(view.converged).toBe(1);
    expect(view.versions.find((v) => v.version === 2)).toMatchObject({ clients: 0, rejected: 2 });
    expect(view.versions.find((v) => v.version === 3)).toMatchObject({
      clients: 14,
      applied: 14,
      rejected: 0,
    });
    // The bound: a report reaches the edge at once (the agent gives up its hold to send it), and
    // the edge flushes it within FLEET_FLUSH_MS (2 s) + 25 ms from that request's own timer
    // (worker/metrics/telemetry.ts), so 5 s leaves room for this 2-core machine and the view poll.
    const appliedLagMs = seenAt - appliedAt;
    console.log(JSON.stringify({ event: "health_gate_e2e_applied", appliedLagMs }));
    expect(
      appliedLagMs,
      "the view counts every applied=3 within 5 s of the last host applying it",
    ).toBeLessThan(5000);

    // The audit names the gate and its figures.
    const audit = await admin.call("GET", `/v1/audit?namespace=${namespace}&key=${encodeURIComponent(key)}`);
    const entries = (audit.json as { entries: Record<string, unknown>[] }).entries;
    const abort = entries.find((e) => e.action === "rollout_abort");
    expect(abort).toMatchObject({ actor: "fleetconf:health-gate", fromVersion: 2, toVersion: 3 });
    expect(abort?.detail).toMatchObject({
      trigger: "health-gate",
      reporting: 5,
      rejected: 2,
      rejectedPercent: 40,
    });
    expect(String(abort?.message)).toContain(
      "2 of 5 reporting clients (40%) rejected it, above max-rejected=10%",
    );

    // And `fleetconf rollout status` says why, as an operator would read it.
    const status = await runBin(["rollout", "status", key], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        FLEETCONF_ORIGIN: stack.originUrl,
        FLEETCONF_TOKEN: token,
        FLEETCONF_DEV_VARS: join(dir, "no.dev.vars"),
        NO_COLOR: "1",
      },
    });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(
      /aborted by\s+2 of 5 reporting clients \(40%\) rejected v2, above max-rejected=10%/,
    );
    expect(status.stdout).toMatch(/reasons\s+hook exit 1 \(2\)/);
  }, 120_000);
});
