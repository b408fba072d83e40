/**
 * The agent's localhost API over the real `wrangler dev` stack (DESIGN §8 "Agent", issue 16): a
 * real agent process with `--listen 127.0.0.1:0` and no `--out`, and a plain HTTP reader (any
 * language would do the same) that gets the verified config with ETag, a 304 on revalidation, a
 * long-poll held with `Prefer: wait`, and the new version after a publish.
 */
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type AgentProcess, type LogLine, spawnAgent } from "./support/agent-process";
import {
  adminTokenFor,
  edgeServes,
  type OriginClient,
  originClient,
  pollUntil,
  send,
  uniqueNamespace,
} from "./support/http";

const stack = inject("stack");
const namespace = uniqueNamespace("listen");
const key = `${namespace}/svc/app`;

describe("fleetconf agent --listen", () => {
  let admin: OriginClient;
  let dir = "";
  let agent: AgentProcess | undefined;
  const lines: LogLine[] = [];

  beforeAll(async () => {
    admin = originClient(stack, await adminTokenFor(stack));
    expect((await admin.setNamespace(namespace, { visibility: "public" })).status).toBe(200);
    expect((await admin.publish(key, '{"v":1}')).status).toBe(201);
    await edgeServes(stack.edgeUrl, key, 1);
    dir = await mkdtemp(join(tmpdir(), "fleetconf-e2e-listen-"));
    await writeFile(join(dir, "jwks.json"), stack.secrets.PUBLIC_JWKS);
    agent = spawnAgent(
      [
        ...["--edge", stack.edgeUrl, "--key", key, "--listen", "127.0.0.1:0"],
        ...["--jwks", join(dir, "jwks.json"), "--wait", "20", "--state-dir", join(dir, "state")],
      ],
      dir,
      lines,
    );
  }, 60_000);

  afterAll(async () => {
    await agent?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("serves the verified config with ETag, 304, and the next version after a publish", {
    timeout: 90_000,
  }, async () => {
    const address = await pollUntil(
      async () => lines.find((l) => l.event === "agent.start")?.listen as string | undefined,
      { timeoutMs: 30_000, what: "the agent to listen" },
    );
    const url = `http://${address}/v1/configs/${key}`;
    const first = await pollUntil(
      async () => {
        const res = await send(url);
        return res.status === 200 ? res : undefined;
      },
      { timeoutMs: 30_000, what: "v1 from the agent" },
    );
    expect(first.json).toEqual({ v: 1 });
    expect(first.headers.get("Config-Version")).toBe("1");
    const etag = first.headers.get("ETag") ?? "";
    // The same identity as the edge's answer: the agent serves the verified snapshot itself.
    const edge = await send(`${stack.edgeUrl}/v1/configs/${key}`);
    expect(etag).toBe(edge.headers.get("ETag"));
    expect(first.headers.get("Config-Signature")).toBe(edge.headers.get("Config-Signature"));

    const again = await send(url, { headers: { "If-None-Match": etag } });
    expect(again.status).toBe(304);
    expect(again.text).toBe("");

    const held = send(url, { headers: { "If-None-Match": etag, Prefer: "wait=20" } });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await admin.publish(key, '{"v":2}')).status).toBe(201);
    const changed = await held;
    expect(changed.status).toBe(200);
    expect(changed.json).toEqual({ v: 2 });
    expect(changed.headers.get("Config-Version")).toBe("2");
    expect(changed.headers.get("Preference-Applied")).toBe("wait=20");

    expect((await send(`http://${address}/v1/configs/${namespace}/other`)).status).toBe(404);
    // No --out: nothing but the state directory was written.
    expect(await readdir(dir)).toEqual(expect.arrayContaining(["jwks.json", "state"]));
    expect((await readdir(dir)).sort()).toEqual(["jwks.json", "state"]);
  });
});
