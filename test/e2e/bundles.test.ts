/**
 * Change sets and bundles end to end (DESIGN §8, issue 16), over the real `wrangler dev` stack: a
 * change set of three keys, repeated 200 times, is seen by an SDK bundle client (long-polling the
 * edge) only ever as a whole set — every member of every set it hands over carries the same round
 * — and the last round arrives.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { type BundleSnapshot, createBundleClient, type Jwks } from "../../client";
import { runBin } from "./support/cli";
import { adminTokenFor, type OriginClient, originClient, pollUntil, uniqueNamespace } from "./support/http";

const stack = inject("stack");
const namespace = uniqueNamespace("bundle");
const KEYS = ["a", "b", "c"].map((k) => `${namespace}/app/${k}`);
const ROUNDS = 200;

function changeSet(admin: OriginClient, round: number) {
  return admin.call(
    "POST",
    "/v1/changes",
    JSON.stringify({
      message: `round ${round}`,
      changes: KEYS.map((key) => ({ key, content: { round, key } })),
    }),
  );
}

describe("a change set seen through a bundle", () => {
  let admin: OriginClient;
  let jwks: Jwks;

  beforeAll(async () => {
    admin = originClient(stack, await adminTokenFor(stack));
    expect((await admin.setNamespace(namespace, { visibility: "public", maxAge: 1 })).status).toBe(200);
    expect((await changeSet(admin, 0)).status).toBe(201);
    const defined = await admin.call("PUT", `/v1/bundles/${namespace}/web`, JSON.stringify({ keys: KEYS }));
    expect(defined.status, defined.text).toBe(200);
    jwks = JSON.parse(stack.secrets.PUBLIC_JWKS) as Jwks;
  });

  it(`hands over only whole sets across ${ROUNDS} change sets of 3 keys`, { timeout: 240_000 }, async () => {
    const client = createBundleClient({
      edge: stack.edgeUrl,
      bundle: `${namespace}/web`,
      jwks,
      waitSeconds: 20,
      intervalMs: 200,
    });
    const seen: BundleSnapshot[] = [];
    const errors: string[] = [];
    client.onChange((set) => seen.push(set));
    client.onError((error) => errors.push(`${error.code}: ${error.message}`));
    try {
      await client.ready();
      for (let round = 1; round <= ROUNDS; round++) {
        const res = await changeSet(admin, round);
        expect(res.status, res.text).toBe(201);
      }
      await pollUntil(async () => (client.current()?.version === ROUNDS + 1 ? true : undefined), {
        timeoutMs: 60_000,
        what: "the last set",
      });
    } finally {
      await client.close();
    }
    const rounds = seen.map((set) => {
      const values = KEYS.map((key) => (set.members[key]?.value as { round: number } | undefined)?.round);
      // Never a mix: all three members of a set come from one change set.
      expect(new Set(values).size, JSON.stringify(values)).toBe(1);
      expect(Object.values(set.members).map((m) => m.version)).toEqual(KEYS.map(() => (values[0] ?? -1) + 1));
      return values[0] ?? -1;
    });
    console.log(
      `bundle e2e: ${seen.length} sets handed over for ${ROUNDS} change sets; errors: ${errors.length}`,
    );
    expect(rounds.at(-1)).toBe(ROUNDS);
    // Sets only move forwards.
    for (let i = 1; i < rounds.length; i++) expect(rounds[i]).toBeGreaterThan(rounds[i - 1] ?? -1);
    // The manifest's version counts change sets: one per set, as the edge signed it.
    expect(seen.at(-1)?.version).toBe(ROUNDS + 1);
  });
});

describe("fleetconf publish PREFIX FOLDER", () => {
  it("publishes every *.json file under the folder as one change set, and nothing when one is broken", async () => {
    const ns = uniqueNamespace("folder");
    const dir = await mkdtemp(join(tmpdir(), "fleetconf-e2e-folder-"));
    try {
      await mkdir(join(dir, "conf", "web"), { recursive: true });
      await writeFile(join(dir, "conf", "flags.json"), '{"beta": true}');
      await writeFile(join(dir, "conf", "web", "limits.json"), '{"rps": 10}');
      await writeFile(join(dir, "conf", "README.md"), "not config");
      const env = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        FLEETCONF_ORIGIN: stack.originUrl,
        FLEETCONF_TOKEN: await adminTokenFor(stack),
        FLEETCONF_DEV_VARS: join(dir, "no.dev.vars"),
      };
      const run = await runBin(["publish", `${ns}/svc`, "conf", "-m", "folder", "--json"], { cwd: dir, env });
      expect(run.code, run.stderr).toBe(0);
      const result = JSON.parse(run.stdout) as {
        applied: boolean;
        changes: { key: string; version: number }[];
      };
      expect(result.applied).toBe(true);
      expect(result.changes.map((c) => c.key)).toEqual([`${ns}/svc/flags`, `${ns}/svc/web/limits`]);
      const admin = originClient(stack, await adminTokenFor(stack));
      expect((await admin.get(`${ns}/svc/web/limits`)).json).toEqual({ rps: 10 });
      const audit = await admin.call("GET", `/v1/audit?namespace=${ns}`);
      const actions = (audit.json as { entries: { action: string }[] }).entries.map((e) => e.action);
      expect(actions.filter((a) => a === "change_set")).toHaveLength(1);

      await writeFile(join(dir, "conf", "flags.json"), '{"beta": false}');
      await writeFile(join(dir, "conf", "web", "limits.json"), '{"rps": 1, "rps": 2}');
      const broken = await runBin(["publish", `${ns}/svc`, "conf"], { cwd: dir, env });
      expect(broken.code).not.toBe(0);
      expect(broken.stderr).toContain("limits.json");
      expect((await admin.get(`${ns}/svc/flags`)).json).toEqual({ beta: true });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
