/**
 * `fleetconf promote` as an operator runs it (the real executable, `node cli/bin.mjs`) against
 * the wrangler-dev stack: staging → prod where prod's schema refuses the first candidate (exit 1,
 * nothing published), then a valid one reaches prod's clients at the edge as exactly staging's
 * bytes and digest with the source named in the audit, and a stale ETag (prod changed since it
 * was read) is a 412 that publishes nothing.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type BinRun, runBin } from "./support/cli";
import { adminTokenFor, edgeServes, type OriginClient, originClient, uniqueNamespace } from "./support/http";

const stack = inject("stack");
const staging = `${uniqueNamespace("stg")}/web/flags`;
const prod = `${uniqueNamespace("prd")}/web/flags`;
// Indented, with a `8.0` that re-serialising would turn into `8`: prod must get these bytes.
const GOOD = '{\n  "rps": 8.0,\n  "regions": ["eu", "us"]\n}\n';
const TOO_FAST = JSON.stringify({ rps: 50, regions: ["eu"] });
const LATER = JSON.stringify({ rps: 9, regions: ["eu", "us", "ap"] });
const PROD_SCHEMA = {
  type: "object",
  properties: { rps: { type: "integer", maximum: 10 }, regions: { type: "array" } },
  required: ["rps"],
};

let admin: OriginClient;
let dir: string;
let env: Record<string, string | undefined>;

const fleetconf = (args: string[]): Promise<BinRun> => runBin(args, { cwd: dir, env });

async function versionOf(key: string, n: number): Promise<{ digest: string; etag: string }> {
  const res = await admin.call("GET", `/v1/configs/${key}/-/versions/${n}`);
  expect(res.status, res.text).toBe(200);
  return res.json as { digest: string; etag: string };
}

async function prodVersion(): Promise<string | null> {
  return (await admin.get(prod)).headers.get("Config-Version");
}

beforeAll(async () => {
  const token = await adminTokenFor(stack);
  admin = originClient(stack, token);
  dir = await mkdtemp(join(tmpdir(), "fleetconf-e2e-promote-"));
  env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    FLEETCONF_ORIGIN: stack.originUrl,
    FLEETCONF_TOKEN: token,
    FLEETCONF_DEV_VARS: join(dir, "no.dev.vars"),
    NO_COLOR: "1",
  };
  for (const [key, body] of [
    [staging, GOOD],
    [staging, TOO_FAST],
    [staging, LATER],
    [prod, JSON.stringify({ rps: 5, regions: ["eu"] })],
  ] as const) {
    const res = await admin.publish(key, body);
    expect(res.status, res.text).toBe(201);
  }
  const schema = await admin.call("PUT", `/v1/schemas/${prod}`, JSON.stringify(PROD_SCHEMA), {
    "Content-Type": "application/schema+json",
  });
  expect(schema.status, schema.text).toBe(201);
  const visibility = await admin.setNamespace(prod.split("/")[0] ?? "", { visibility: "public" });
  expect(visibility.status, visibility.text).toBe(200);
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("fleetconf promote staging → prod over wrangler dev", () => {
  it("refuses a version prod's schema refuses: exit 1, the schema error printed, nothing published", async () => {
    const run = await fleetconf(["promote", `${staging}@2`, prod]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("422");
    expect(run.stderr).toContain("/rps: 50 is greater than 10");
    expect(await prodVersion()).toBe("1");
  });

  it("publishes a valid version: prod's clients get exactly staging's bytes and digest, and the audit names the source", async () => {
    const run = await fleetconf(["promote", `${staging}@1`, prod, "-m", "CHG-1234"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`promoted ${staging}@1 to ${prod} v2`);
    const source = await versionOf(staging, 1);
    const served = await edgeServes(stack.edgeUrl, prod, 2);
    expect(served.text).toBe(GOOD);
    expect(served.headers.get("Content-Digest")).toBe(source.digest);
    const query = new URLSearchParams({ namespace: prod.split("/")[0] ?? "", key: prod });
    const audit = await admin.call("GET", `/v1/audit?${query}`);
    const entries = (audit.json as { entries: Record<string, unknown>[] }).entries;
    expect(entries.find((e) => e.toVersion === 2)).toMatchObject({
      action: "publish",
      actor: "e2e",
      message: `promote ${staging}@1 (${source.digest}): CHG-1234`,
    });
    const again = await fleetconf(["promote", `${staging}@1`, prod]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("already promoted");
  });

  it("fails with 412 when prod changed since its ETag was read, and publishes nothing", async () => {
    // The ETag an operator read before prod moved on to v2.
    const stale = (await versionOf(prod, 1)).etag;
    const run = await fleetconf(["promote", `${staging}@3`, prod, "--if-match", stale]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${prod}'s current ETag is no longer ${stale}: nothing was published (412)`);
    expect(run.stderr).toContain("re-run `fleetconf promote");
    expect(await prodVersion()).toBe("2");
  });
});
