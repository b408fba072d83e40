/**
 * Rollout rings with the real `fleetconf` executable against the real stack (wrangler dev), where
 * every request reaches the edge at the local fallback location, colo DFW (continent NA): a ring
 * of AMS at 100% keeps local clients on the stable version; widening it to DFW moves them; a
 * narrowing `rollout set` is refused; `rollout status` shows the ring and the fleet per location.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type BinRun, cliEnvFor, runBin } from "./support/cli";
import { edgeServes, originClient, pollUntil, uniqueNamespace } from "./support/http";

const stack = inject("stack");
const namespace = uniqueNamespace("ringcli");
const key = `${namespace}/checkout/flags`;
const client = { "Config-Client-Id": "host-dfw-1" };

let dir: string;
let env: NodeJS.ProcessEnv;

const fleetconf = (args: string[]): Promise<BinRun> => runBin(args, { cwd: dir, env });
const json = (run: BinRun) => JSON.parse(run.stdout) as Record<string, unknown>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fleetconf-e2e-rings-cli-"));
  await writeFile(join(dir, "v1.json"), JSON.stringify({ rps: 100 }));
  await writeFile(join(dir, "v2.json"), JSON.stringify({ rps: 200 }));
  env = await cliEnvFor(stack, dir);
  const admin = originClient(stack, env.FLEETCONF_TOKEN ?? "");
  expect((await admin.setNamespace(namespace, { visibility: "public" })).status).toBe(200);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("fleetconf rollout rings over wrangler dev (local colo DFW)", () => {
  it("refuses bad ring arguments before contacting the origin (exit 2)", async () => {
    for (const args of [
      ["rollout", "start", key, "v2.json", "--percent", "100", "--colos", "AMSX"],
      ["rollout", "start", key, "v2.json", "--percent", "100", "--continents", "EUR"],
      ["rollout", "set", key, "--everywhere", "--colos", "AMS"],
    ]) {
      const run = await fleetconf(args);
      expect(run.code, args.join(" ")).toBe(2);
    }
  });

  it("keeps DFW on the stable version with a ring of AMS, moves it when the ring widens, then completes", async () => {
    expect((await fleetconf(["publish", key, "v1.json"])).code).toBe(0);
    await edgeServes(stack.edgeUrl, key, 1, { headers: client });
    const start = await fleetconf([
      "rollout",
      "start",
      key,
      "v2.json",
      "--percent",
      "100",
      "--colos",
      "ams",
      "--json",
    ]);
    expect(start.code, start.stderr).toBe(0);
    expect(json(start)).toMatchObject({
      rollout: { state: "running", share: 100, ring: { colos: ["AMS"] } },
    });
    // The head is purged at once; the local edge (DFW) is outside the ring: stable, ring=out.
    const outside = await pollUntil(
      async () => {
        const res = await fetch(`${stack.edgeUrl}/v1/configs/${key}`, { headers: client });
        await res.arrayBuffer();
        return res.headers.get("Config-Rollout")?.includes("ring=out") ? res : undefined;
      },
      { what: "the ring rollout at the edge" },
    );
    expect(outside.headers.get("Config-Version")).toBe("1");

    const widened = await fleetconf(["rollout", "set", key, "--colos", "AMS,DFW", "--json"]);
    expect(widened.code, widened.stderr).toBe(0);
    expect(json(widened)).toMatchObject({ ring: { colos: ["AMS", "DFW"], continents: [] } });
    const inside = await edgeServes(stack.edgeUrl, key, 2, { headers: client });
    expect(inside.headers.get("Config-Rollout")).toBe("candidate; share=100; ring=in");

    const narrowed = await fleetconf(["rollout", "set", key, "--colos", "AMS"]);
    expect(narrowed.code).toBe(1);
    expect(narrowed.stderr).toContain("409");
    expect(narrowed.stderr).toContain("a ring only grows");

    // The edge flushes sightings every 2 s: the status's fleet table shows DFW in the ring.
    const status = await pollUntil(
      async () => {
        const run = await fleetconf(["rollout", "status", key]);
        return /DFW\s+in\s+1\s/.test(run.stdout) ? run : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 500, what: "DFW in the status's fleet table" },
    );
    expect(status.stdout).toMatch(/ring\s+colos=AMS DFW/);
    expect(status.stdout).toMatch(/LOCATION\s+RING\s+CLIENTS\s+CONVERGED/);

    const everywhere = await fleetconf(["rollout", "set", key, "--everywhere", "--json"]);
    expect(json(everywhere)).toMatchObject({ ring: null });
    const completed = await fleetconf(["rollout", "complete", key]);
    expect(completed.code, completed.stderr).toBe(0);
    expect(completed.stdout).toMatch(/state\s+completed/);
  });
});
