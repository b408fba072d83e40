/**
 * The fleet agent as a real process (`node cli/bin.mjs agent`) against the real stack, through a
 * tampering proxy: the file follows every verified version, the hook runs exactly once per
 * change, tampered content never reaches the file, and SIGTERM exits 0 leaving no temp files.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type EdgeProxy, startEdgeProxy } from "../unit/client/support/proxy";
import { waitFor } from "../unit/client/support/snapshot-server";
import { type AgentProcess, type LogLine, spawnAgent } from "./support/agent-process";
import { adminTokenFor, edgeServes, type OriginClient, originClient, uniqueNamespace } from "./support/http";

const stack = inject("stack");
const namespace = uniqueNamespace("agent");
const key = `${namespace}/web/nginx`;

let admin: OriginClient;
let proxy: EdgeProxy;
let dir: string;
let agent: AgentProcess | undefined;
const logLines: LogLine[] = [];

const out = () => join(dir, "nginx.json");
const hookLog = () => join(dir, "hooks.log");
const hookRuns = async () => (await readFile(hookLog(), "utf8").catch(() => "")).split("\n").filter(Boolean);
const events = (name: string) => logLines.filter((l) => l.event === name);

async function publish(version: number, value: unknown): Promise<void> {
  const answer = await admin.publish(key, JSON.stringify(value));
  expect(answer.status, answer.text).toBe(201);
  await edgeServes(stack.edgeUrl, key, version);
}

beforeAll(async () => {
  admin = originClient(stack, await adminTokenFor(stack));
  const settings = await admin.setNamespace(namespace, { visibility: "public", maxAge: 0 });
  expect(settings.status, settings.text).toBe(200);
  proxy = await startEdgeProxy(stack.edgeUrl);
  dir = await mkdtemp(join(tmpdir(), "fleetconf-e2e-agent-"));
  // A pinned JWKS, as a fleet would ship it.
  await writeFile(join(dir, "jwks.json"), stack.secrets.PUBLIC_JWKS);
  await publish(1, { workers: 2 });
  agent = spawnAgent(
    [
      "--edge",
      proxy.url,
      "--key",
      key,
      "--out",
      out(),
      "--jwks",
      join(dir, "jwks.json"),
      // The state lives apart from the output folder (DESIGN §8).
      "--state-dir",
      `${dir}-state`,
      "--interval",
      "0.2",
      // Long-polls of 1 s: "however many polls happen" needs several within the test's bounds.
      "--wait",
      "1",
      "--exec",
      `echo "$FLEETCONF_KEY $FLEETCONF_VERSION $FLEETCONF_FILE" >> "${hookLog()}"`,
    ],
    dir,
    logLines,
  );
}, 60_000);

afterAll(async () => {
  await agent?.stop("SIGKILL");
  await proxy?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  if (dir) await rm(`${dir}-state`, { recursive: true, force: true });
});

describe("fleetconf agent over wrangler dev", () => {
  it("writes the first version and runs the hook once", async () => {
    await waitFor(() => events("hook.done").length === 1, 30_000, "first hook");
    expect(await readFile(out(), "utf8")).toBe('{"workers":2}');
    expect(await hookRuns()).toEqual([`${key} 1 ${out()}`]);
    expect(events("agent.start")[0]).toMatchObject({ key, file: out() });
  });

  it("runs the hook exactly once per change, however many polls happen", async () => {
    await publish(2, { workers: 4 });
    await waitFor(() => events("hook.done").length === 2, 15_000, "second hook");
    const forwarded = proxy.counts.forwarded;
    await waitFor(() => proxy.counts.forwarded >= forwarded + 5, 15_000, "five more polls");
    expect(await hookRuns()).toEqual([`${key} 1 ${out()}`, `${key} 2 ${out()}`]);
    expect(await readFile(out(), "utf8")).toBe('{"workers":4}');
  });

  it("never writes a version whose bytes were tampered with", async () => {
    proxy.mode = { kind: "flip" };
    await publish(3, { workers: 8 });
    await waitFor(
      () => events("client.error").some((l) => l.code === "digest_mismatch"),
      15_000,
      "digest_mismatch",
    );
    expect(await readFile(out(), "utf8")).toBe('{"workers":4}');
    expect(await hookRuns()).toHaveLength(2);
    proxy.mode = { kind: "pass" };
    await waitFor(() => events("hook.done").length === 3, 15_000, "third hook");
    expect(await readFile(out(), "utf8")).toBe('{"workers":8}');
  });

  it("keeps the file through an outage and catches up afterwards", async () => {
    proxy.mode = { kind: "status", status: 502 };
    await waitFor(() => events("client.error").some((l) => l.status === 502), 15_000, "502 seen");
    expect(await readFile(out(), "utf8")).toBe('{"workers":8}');
    proxy.mode = { kind: "pass" };
    await publish(4, { workers: 16 });
    await waitFor(() => events("hook.done").length === 4, 30_000, "fourth hook");
    expect(await readFile(out(), "utf8")).toBe('{"workers":16}');
  });

  it("exits 0 on SIGTERM and leaves no temp files", async () => {
    expect(await agent?.stop()).toBe(0);
    expect(events("agent.stop")[0]).toMatchObject({ key, writes: 4, hooks: 4 });
    expect((await readdir(dir)).sort()).toEqual(["hooks.log", "jwks.json", "nginx.json"]);
    expect(await readdir(`${dir}-state`)).toEqual([`${key.replaceAll("/", "~")}.snapshot.json`]);
  });
});
