/**
 * The e2e harness itself (test/e2e/support/stack.ts): stacks side by side stay apart (each
 * origin's EDGE binding reaches its own edge through its own dev registry), the edge can be
 * stopped and started again, and stopping leaves no process and no temp dir behind.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { groupMembers, REPO_ROOT } from "../../scripts/lib/processes";
import { edgeServes, originClient, pollUntil, send, uniqueNamespace } from "./support/http";
import { type Stack, startStack } from "./support/stack";

describe("e2e harness: two stacks side by side", () => {
  let a: Stack;
  let b: Stack;

  beforeAll(async () => {
    // allSettled: if one fails to start, the other must still be stopped by afterAll.
    const [first, second] = await Promise.allSettled([startStack(), startStack()]);
    if (first.status === "fulfilled") a = first.value;
    if (second.status === "fulfilled") b = second.value;
    if (first.status === "rejected") throw first.reason;
    if (second.status === "rejected") throw second.reason;
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it("gives each stack its own dev registry holding only its own two workers", () => {
    const entryOf = (stack: Stack) => {
      const dir = join(stack.tempDir, "registry");
      expect(readdirSync(dir).sort()).toEqual(["fleetconf-edge", "fleetconf-origin"]);
      return JSON.parse(readFileSync(join(dir, "fleetconf-edge"), "utf8")) as { debugPortAddress: string };
    };
    expect(entryOf(a).debugPortAddress).not.toBe(entryOf(b).debugPortAddress);
    expect(a.edgeUrl).not.toBe(b.edgeUrl);
  });

  it("starts every worker with fresh secrets of its own", () => {
    expect(a.secrets.ADMIN_JWT_SECRET).not.toBe(b.secrets.ADMIN_JWT_SECRET);
    expect(a.secrets.SIGNING_KEYS).not.toBe(b.secrets.SIGNING_KEYS);
  });

  it("refuses another stack's admin token (401)", async () => {
    const foreign = originClient(a, await b.adminToken());
    const answer = await foreign.publish(`${uniqueNamespace()}/x/y`, "{}");
    expect(answer.status).toBe(401);
  });

  it("purges only its own edge when its origin publishes", async () => {
    const key = `${uniqueNamespace("iso")}/svc/config`;
    const published = await originClient(a, await a.adminToken()).publish(key, '{"stack":"a"}');
    expect(published.status, published.text).toBe(201);
    await pollUntil(
      async () => (a.logLines("edge").some((l) => l.includes("/internal/purge")) ? true : undefined),
      {
        what: "stack A's edge to log a purge",
      },
    );
    expect(b.logLines("edge").some((l) => l.includes("/internal/purge"))).toBe(false);
    // The stacks share no KV either: B's edge has never heard of the key.
    const inB = await send(`${b.edgeUrl}/v1/configs/${key}`);
    expect(inB.status).not.toBe(200);
  });

  it("stops the edge completely and starts it again on the same URL with the same data", async () => {
    const namespace = uniqueNamespace("restart");
    const key = `${namespace}/svc/config`;
    const admin = originClient(b, await b.adminToken());
    expect((await admin.setNamespace(namespace, { visibility: "public" })).status).toBe(200);
    expect((await admin.publish(key, '{"kept":true}')).status).toBe(201);
    await edgeServes(b.edgeUrl, key, 1);

    const before = b.processGroups();
    await b.stopEdge();
    expect(b.processGroups()).toHaveLength(1);
    for (const pgid of before.filter((g) => !b.processGroups().includes(g))) {
      expect(groupMembers(pgid)).toEqual([]);
    }
    await expect(fetch(`${b.edgeUrl}/healthz`)).rejects.toThrow();
    expect((await send(`${b.originUrl}/healthz`)).status).toBe(200);

    await b.startEdge();
    expect((await send(`${b.edgeUrl}/healthz`)).status).toBe(200);
    const served = await edgeServes(b.edgeUrl, key, 1);
    expect(served.text).toBe('{"kept":true}');
  });

  it("leaves no process and no temp dir behind when stopped", async () => {
    const groups = [...a.processGroups(), ...b.processGroups()];
    expect(groups).toHaveLength(4);
    await Promise.all([a.stop(), b.stop()]);
    for (const pgid of groups) expect(groupMembers(pgid)).toEqual([]);
    expect(existsSync(a.tempDir)).toBe(false);
    expect(existsSync(b.tempDir)).toBe(false);
  });
});

describe("e2e harness: cleanup when the test process is killed", () => {
  it("kills the process groups and removes the temp dirs of a SIGKILLed parent (watchdog)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fleetconf-watchdog-"));
    const script = join(dir, "parent.mjs");
    const processes = new URL("../../scripts/lib/processes.ts", import.meta.url).href;
    writeFileSync(
      script,
      `import { registerTempDir, startProcess } from ${JSON.stringify(processes)};
       const child = startProcess("sleeper", "sleep", ["300"], { cwd: ${JSON.stringify(dir)}, env: process.env });
       registerTempDir(${JSON.stringify(dir)});
       console.log(child.pid);
       setInterval(() => {}, 1000);`,
    );
    // Under tsx, as `npm test` runs the scripts; `--import tsx` resolves from the repo root.
    const parent = spawn(process.execPath, ["--import", "tsx", script], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    });
    const pgid = await new Promise<number>((resolve) => {
      parent.stdout?.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    });
    expect(groupMembers(pgid).length).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 300)); // let the watchdog read its lines
    parent.kill("SIGKILL");
    await pollUntil(async () => (groupMembers(pgid).length === 0 && !existsSync(dir) ? true : undefined), {
      timeoutMs: 10_000,
      what: "the watchdog to kill the group and remove the dir",
    });
  });
});
