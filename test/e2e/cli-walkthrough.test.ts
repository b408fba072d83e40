/**
 * The docs/cli.md walk-through, run as a user would: the real `fleetconf` executable
 * (`node cli/bin.mjs`, TypeScript loaded through tsx) against the real stack. Publish with
 * preconditions, history, show, diff (human and RFC 6902), rollback, namespaces, tokens, watch
 * from the edge, delete — and the exit codes and messages when things go wrong.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { applyJsonPatch, type JsonPatchOperation, type JsonValue } from "../../core/json-diff";
import { type BinRun, runBin } from "./support/cli";
import { adminTokenFor, edgeServes, send, uniqueNamespace } from "./support/http";

const stack = inject("stack");
const namespace = uniqueNamespace("cli");
const key = `${namespace}/checkout/flags`;
const v1 = { rps: 100, features: ["a", "b"], beta: false };
const v2 = { rps: 250, features: ["a", "new", "b"], beta: false, owner: "payments" };

let dir: string;
let env: Record<string, string | undefined>;

type Run = BinRun;

const fleetconf = (args: string[], extraEnv: Record<string, string> = {}, stdin?: string): Promise<Run> =>
  runBin(args, { cwd: dir, env: { ...env, ...extraEnv }, ...(stdin === undefined ? {} : { stdin }) });

const json = (run: Run) => JSON.parse(run.stdout) as Record<string, unknown>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fleetconf-e2e-cli-"));
  await writeFile(join(dir, "v1.json"), JSON.stringify(v1));
  await writeFile(join(dir, "v2.json"), JSON.stringify(v2, null, 2));
  await writeFile(join(dir, "broken.json"), '{"rps": 1,\n "rps": 2}');
  await writeFile(join(dir, "jwks.json"), stack.secrets.PUBLIC_JWKS);
  env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    FLEETCONF_ORIGIN: stack.originUrl,
    FLEETCONF_EDGE: stack.edgeUrl,
    FLEETCONF_TOKEN: await adminTokenFor(stack),
    // No .dev.vars in the temp dir: every credential comes from the environment.
    FLEETCONF_DEV_VARS: join(dir, "no.dev.vars"),
  };
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("fleetconf walk-through over wrangler dev", () => {
  let etag1 = "";

  it("publishes a file with a message", async () => {
    const run = await fleetconf(["publish", key, "v1.json", "-m", "first cut", "--create", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    expect(json(run)).toMatchObject({ key, version: 1, created: true });
    etag1 = String(json(run).etag);
    const human = await fleetconf(["publish", key, "v1.json"]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`${key} unchanged: already v1`);
  });

  it("publishes from stdin only over the expected ETag, with a UTF-8 message", async () => {
    const stale = await fleetconf(["publish", key, "-", "--if-match", '"0-stale"'], {}, JSON.stringify(v2));
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain("412");
    const run = await fleetconf(
      ["publish", key, "-", "--if-match", etag1, "-m", "plus de débit ✓"],
      {},
      JSON.stringify(v2, null, 2),
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`published ${key} v2`);
  });

  it("refuses a document with duplicate names before sending it", async () => {
    const run = await fleetconf(["publish", key, "broken.json"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('duplicate member name "rps" at line 2');
  });

  it("lists history newest first with authors and messages", async () => {
    const run = await fleetconf(["history", key, "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const versions = json(run).versions as Array<Record<string, unknown>>;
    expect(versions.map((v) => v.version)).toEqual([2, 1]);
    expect(versions.map((v) => v.message)).toEqual(["plus de débit ✓", "first cut"]);
    const human = await fleetconf(["history", key]);
    expect(human.stdout.split("\n")[0]).toMatch(/^VERSION\s+PUBLISHED\s+AUTHOR\s+SIZE\s+MESSAGE$/);
    expect(human.stdout).not.toContain("\u001b["); // not a terminal: no colour
  });

  it("shows one version's content", async () => {
    const run = await fleetconf(["show", key, "1"]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(v1);
    expect(run.stderr).toContain(`${key} v1`);
  });

  it("diffs two versions for people and as an RFC 6902 patch", async () => {
    const human = await fleetconf(["diff", key, "1", "2"]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain("~ /rps: 100 → 250");
    expect(human.stdout).toContain('+ /features/1: "new"');
    expect(human.stdout).toContain('+ /owner: "payments"');
    const patch = await fleetconf(["diff", key, "1", "current", "--json"]);
    const operations = JSON.parse(patch.stdout) as JsonPatchOperation[];
    expect(applyJsonPatch(v1 as JsonValue, operations)).toEqual(v2);
  });

  it("rolls back by publishing the old content as a new version", async () => {
    const run = await fleetconf(["rollback", key, "1", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    expect(json(run)).toMatchObject({ version: 3, rolledBackTo: 1 });
    const current = await fleetconf(["get", key]);
    expect(current.stdout).toBe(JSON.stringify(v1));
    expect(current.stderr).toContain(`${key} v3`);
  });

  it("mints a read token that the edge accepts for the private namespace", async () => {
    const run = await fleetconf(["token", "--read", "--scope", `read:${namespace}`, "--ttl", "10m"]);
    expect(run.code, run.stderr).toBe(0);
    const token = run.stdout.trim();
    await edgeServes(stack.edgeUrl, key, 3, { headers: { Authorization: `Bearer ${token}` } });
    const anonymous = await send(`${stack.edgeUrl}/v1/configs/${key}`);
    expect(anonymous.status).toBe(401);
  });

  it("makes the namespace public and reads it back", async () => {
    const set = await fleetconf(["namespace", "set", namespace, "--public", "--max-age", "1", "--json"]);
    expect(set.code, set.stderr).toBe(0);
    expect(json(set)).toMatchObject({ namespace, visibility: "public", maxAge: 1 });
    const get = await fleetconf(["namespace", "get", namespace]);
    expect(get.stdout).toMatch(/visibility\s+public/);
    expect(get.stdout).toMatch(/max-age\s+1s/);
  });

  it("watches the edge and prints the verified current version", async () => {
    await edgeServes(stack.edgeUrl, key, 3);
    const run = await fleetconf(["watch", key, "--once", "--json", "--jwks", "jwks.json"]);
    expect(run.code, run.stderr).toBe(0);
    expect(json(run)).toMatchObject({ key, version: 3, stale: false, value: v1 });
  });

  it("reports the origin's problem detail and exit 1 for a bad token", async () => {
    const run = await fleetconf(["history", key], { FLEETCONF_TOKEN: "not.a.token" });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("401");
    expect(run.stderr).toContain("hint:");
  });

  it("deletes the key; reading it then fails with 404", async () => {
    const run = await fleetconf(["delete", key, "--yes", "-m", "cleanup"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`deleted ${key}`);
    const gone = await fleetconf(["get", key, "--json"]);
    expect(gone.code).toBe(1);
    expect(JSON.parse(gone.stderr).error).toMatchObject({ status: 404 });
  });
});
