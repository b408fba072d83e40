/**
 * Four-eyes through the real `fleetconf` executable against the real stack (wrangler dev): turn
 * approval on, publish (held: the edge keeps the old version), the author's approval refused,
 * another admin's approval applied and served by the edge, a rejected rollback, and an abort that
 * is never held.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { mintTestAdminToken } from "../support/admin-token";
import { type BinRun, runBin } from "./support/cli";
import { edgeServes, send, uniqueNamespace } from "./support/http";

const stack = inject("stack");
const namespace = uniqueNamespace("four-eyes");
const key = `${namespace}/checkout/flags`;

let dir: string;
let env: Record<string, string | undefined>;
const tokens: Record<string, string> = {};

const as = (sub: string, args: string[]): Promise<BinRun> =>
  runBin(args, { cwd: dir, env: { ...env, FLEETCONF_TOKEN: tokens[sub] } });

const json = (run: BinRun) => JSON.parse(run.stdout) as Record<string, unknown>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fleetconf-e2e-approvals-"));
  await writeFile(join(dir, "v1.json"), '{"rps": 100}');
  await writeFile(join(dir, "v2.json"), '{"rps": 250}');
  await writeFile(join(dir, "v3.json"), '{"rps": 300}');
  for (const sub of ["alice", "bob"]) {
    tokens[sub] = await mintTestAdminToken(stack.secrets.ADMIN_JWT_SECRET, "admin", {
      ttlSeconds: 3600,
      sub,
    });
  }
  env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    FLEETCONF_ORIGIN: stack.originUrl,
    FLEETCONF_EDGE: stack.edgeUrl,
    FLEETCONF_DEV_VARS: join(dir, "no.dev.vars"),
  };
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("four-eyes through the CLI over wrangler dev", () => {
  it("holds a publish until another admin approves it", async () => {
    expect((await as("alice", ["publish", key, "v1.json"])).code).toBe(0);
    const on = await as("alice", ["namespace", "set", namespace, "--public", "--approval", "required"]);
    expect(on.code, on.stderr).toBe(0);
    expect(on.stdout).toMatch(/approval\s+required/);
    await edgeServes(stack.edgeUrl, key, 1);

    const held = await as("alice", ["publish", key, "v2.json", "-m", "more rps"]);
    expect(held.code, held.stderr).toBe(0);
    expect(held.stdout).toMatch(
      new RegExp(`change request ${namespace}/\\d+ created — needs approval by another admin`),
    );
    const listed = await as("bob", ["changes", "list", namespace, "--json"]);
    const requests = json(listed).changeRequests as { id: number; author: string; kind: string }[];
    expect(requests).toHaveLength(1);
    const id = String(requests[0]?.id);
    expect(requests[0]).toMatchObject({ author: "alice", kind: "publish" });
    const edge = await send(`${stack.edgeUrl}/v1/configs/${key}`);
    expect(edge.headers.get("Config-Version")).toBe("1");

    const shown = await as("bob", ["changes", "show", namespace, id]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain("/rps");

    const own = await as("alice", ["changes", "approve", namespace, id]);
    expect(own.code).toBe(1);
    expect(own.stderr).toContain("403");

    const approved = await as("bob", ["changes", "approve", namespace, id, "-m", "checked"]);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain("applied as v2");
    expect((await edgeServes(stack.edgeUrl, key, 2)).text).toBe('{"rps": 250}');
  });

  it("rejects a held rollback, and never holds a rollout abort", async () => {
    const held = await as("alice", ["rollback", key, "1", "--json"]);
    expect(held.code, held.stderr).toBe(0);
    const { changeRequest } = json(held) as { changeRequest: { id: number; kind: string } };
    expect(changeRequest.kind).toBe("rollback");
    const rejected = await as("bob", [
      "changes",
      "reject",
      namespace,
      String(changeRequest.id),
      "--reason",
      "not now",
    ]);
    expect(rejected.code, rejected.stderr).toBe(0);

    const start = await as("alice", ["rollout", "start", key, "v3.json", "--percent", "20"]);
    expect(start.stdout).toContain("needs approval");
    const pending = json(await as("bob", ["changes", "list", namespace, "--json"])).changeRequests as {
      id: number;
    }[];
    expect((await as("bob", ["changes", "approve", namespace, String(pending[0]?.id)])).code).toBe(0);
    const abort = await as("alice", ["rollout", "abort", key]);
    expect(abort.code, abort.stderr).toBe(0);
    expect(abort.stdout).not.toContain("needs approval");
  });
});
