/**
 * The safe-deployment commands of the real `fleetconf` executable against the real stack: schema
 * set/get/delete (and a refused publish showing JSON Pointers), rollout start/status/set/abort/
 * complete, diff through the origin's route (candidate included), and the audit log.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type BinRun, cliEnvFor, runBin } from "./support/cli";
import { originClient, uniqueNamespace } from "./support/http";

const stack = inject("stack");
const namespace = uniqueNamespace("rocli");
const key = `${namespace}/checkout/flags`;

let dir: string;
let env: NodeJS.ProcessEnv;

type Run = BinRun;

const fleetconf = (args: string[]): Promise<Run> => runBin(args, { cwd: dir, env });

const json = (run: Run) => JSON.parse(run.stdout) as Record<string, unknown>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fleetconf-e2e-rollout-cli-"));
  const files: Record<string, unknown> = {
    "schema.json": {
      type: "object",
      properties: { rps: { type: "integer", minimum: 1 }, beta: { type: "boolean" } },
      required: ["rps"],
    },
    "v1.json": { rps: 100, beta: false },
    "v2.json": { rps: 200, beta: true },
    "bad.json": { rps: 0, beta: "yes" },
  };
  for (const [name, value] of Object.entries(files)) await writeFile(join(dir, name), JSON.stringify(value));
  env = await cliEnvFor(stack, dir);
  const admin = originClient(stack, env.FLEETCONF_TOKEN ?? "");
  expect((await admin.setNamespace(namespace, { visibility: "public" })).status).toBe(200);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("fleetconf safe deployment over wrangler dev", () => {
  it("sets a schema, prints it back, and refuses a publish that breaks it with pointers", async () => {
    const set = await fleetconf(["schema", "set", key, "schema.json", "-m", "require rps"]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain(`schema of ${key} set`);
    const got = await fleetconf(["schema", "get", key, "--json"]);
    expect(json(got)).toMatchObject({ required: ["rps"] });
    expect((await fleetconf(["publish", key, "v1.json"])).code).toBe(0);
    const bad = await fleetconf(["publish", key, "bad.json"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("422");
    expect(bad.stderr).toContain("/rps: 0 is less than 1.");
    expect(bad.stderr).toContain("/beta:");
    const badJson = await fleetconf(["publish", key, "bad.json", "--json"]);
    const error = (JSON.parse(badJson.stderr) as { error: { code: string; errors: { pointer: string }[] } })
      .error;
    expect(error.code).toBe("schema_violation");
    expect(error.errors.map((e) => e.pointer).sort()).toEqual(["/beta", "/rps"]);
  });

  it("starts a rollout, shows it, raises it, refuses to lower it, and diffs the candidate", async () => {
    const start = await fleetconf([
      "rollout",
      "start",
      key,
      "v2.json",
      "--percent",
      "20",
      "-m",
      "canary",
      "--json",
    ]);
    expect(start.code, start.stderr).toBe(0);
    expect(json(start)).toMatchObject({
      version: 2,
      created: true,
      rollout: { state: "running", share: 20 },
    });
    const status = await fleetconf(["rollout", "status", key]);
    expect(status.stdout).toMatch(/state\s+running/);
    expect(status.stdout).toMatch(/share now\s+20%/);
    expect(status.stdout).toContain("canary");
    const raised = await fleetconf(["rollout", "set", key, "--percent", "50", "--json"]);
    expect(json(raised)).toMatchObject({ mode: "fixed", percent: 50, share: 50 });
    const lowered = await fleetconf(["rollout", "set", key, "--percent", "10"]);
    expect(lowered.code).toBe(1);
    expect(lowered.stderr).toContain("409");
    const diff = await fleetconf(["diff", key, "current", "candidate"]);
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stdout).toContain("v1 → v2: 0 added, 0 removed, 2 changed");
    expect(diff.stdout).toContain("~ /rps: 100 → 200");
    const patch = await fleetconf(["diff", key, "1", "candidate", "--json"]);
    expect(JSON.parse(patch.stdout)).toEqual([
      { op: "replace", path: "/rps", value: 200 },
      { op: "replace", path: "/beta", value: true },
    ]);
    const publish = await fleetconf(["publish", key, "v1.json"]);
    expect(publish.code).toBe(1);
    expect(publish.stderr).toContain("409");
  });

  it("aborts, then completes a second rollout, and the audit log tells the story", async () => {
    const aborted = await fleetconf(["rollout", "abort", key, "-m", "too slow", "--json"]);
    expect(json(aborted)).toMatchObject({ state: "aborted", resultVersion: 3 });
    const second = await fleetconf(["rollout", "start", key, "v2.json", "--linear", "10,10,1h"]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain("10% + 10% every 1h");
    const completed = await fleetconf(["rollout", "complete", key]);
    expect(completed.stdout).toMatch(/state\s+completed/);
    const audit = await fleetconf(["audit", "--key", key, "--since", "1h", "--json"]);
    expect(audit.code, audit.stderr).toBe(0);
    const actions = (json(audit).entries as { action: string }[]).map((e) => e.action);
    expect(actions).toEqual([
      "schema_set",
      "publish",
      "rollout_start",
      "rollout_update",
      "rollout_abort",
      "rollout_start",
      "rollout_complete",
    ]);
    const table = await fleetconf(["audit", "--namespace", namespace, "--limit", "3"]);
    expect(table.stdout).toMatch(/TIME\s+ACTOR\s+ACTION/);
    expect(table.stderr).toContain("more entries");
    const removed = await fleetconf(["schema", "delete", key]);
    expect(removed.code).toBe(0);
    expect((await fleetconf(["schema", "get", key])).code).toBe(1);
  });

  it("refuses bad rollout arguments before contacting the origin (exit 2)", async () => {
    for (const args of [
      ["rollout", "start", key, "v2.json"],
      ["rollout", "start", key, "v2.json", "--percent", "20", "--linear", "1,1,1"],
      ["rollout", "start", key, "v2.json", "--percent", "101"],
      ["rollout", "start", key, "v2.json", "--linear", "10,0,60"],
      ["rollout", "set", key],
      ["audit", "--namespace", "Bad NS"],
    ]) {
      const run = await fleetconf(args);
      expect(run.code, args.join(" ")).toBe(2);
    }
  });
});
