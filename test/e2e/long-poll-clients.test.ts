/**
 * Long-poll from the clients' side (DESIGN §8), over the real `wrangler dev` stack: an SDK client
 * and a real agent process, both with a 60 s poll interval, receive a publish within 2 s (locally),
 * so only a held request can have delivered it. The edge's own side (held 200/304, the waiter cap)
 * is test/e2e/long-poll.test.ts.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Jwks } from "../../client";
import { type AgentProcess, type LogLine, spawnAgent } from "./support/agent-process";
import {
  adminTokenFor,
  edgeServes,
  type OriginClient,
  originClient,
  pollUntil,
  uniqueNamespace,
} from "./support/http";
import { parkedClient } from "./support/long-poll";

const stack = inject("stack");
const namespace = uniqueNamespace("longpoll");
const BOUND_MS = 2000;

describe("SDK and agent long-polling the edge", () => {
  let admin: OriginClient;
  let jwks: Jwks;

  beforeAll(async () => {
    admin = originClient(stack, await adminTokenFor(stack));
    const settings = await admin.setNamespace(namespace, { visibility: "public", maxAge: 5 });
    expect(settings.status, settings.text).toBe(200);
    jwks = JSON.parse(stack.secrets.PUBLIC_JWKS) as Jwks;
  });

  it("delivers a publish to a parked SDK client within 2 s, with a 60 s poll interval", async () => {
    const key = `${namespace}/svc/sdk`;
    expect((await admin.publish(key, '{"v":1}')).status).toBe(201);
    await edgeServes(stack.edgeUrl, key, 1);
    const parked = await parkedClient(stack.edgeUrl, key, jwks);
    try {
      const elapsed = await parked.timeDelivery(2, async () => {
        expect((await admin.publish(key, '{"v":2}')).status).toBe(201);
      });
      console.log(`long-poll: SDK received the publish ${elapsed.toFixed(0)} ms after it was answered`);
      expect(elapsed).toBeLessThan(BOUND_MS);
      expect(parked.client.current()?.value).toEqual({ v: 2 });
      expect(parked.applied.at(-1)).toMatch(/^wait=\d+$/);
    } finally {
      await parked.client.close();
    }
  });

  describe("the agent", () => {
    const key = `${namespace}/svc/agent`;
    let dir = "";
    let agent: AgentProcess | undefined;
    const lines: LogLine[] = [];
    const written = () => lines.filter((l) => l.event === "config.written");

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "fleetconf-e2e-longpoll-"));
      await writeFile(join(dir, "jwks.json"), stack.secrets.PUBLIC_JWKS);
      expect((await admin.publish(key, '{"workers":1}')).status).toBe(201);
      await edgeServes(stack.edgeUrl, key, 1);
      agent = spawnAgent(
        [
          ...["--edge", stack.edgeUrl, "--key", key, "--out", join(dir, "app.json")],
          ...["--jwks", join(dir, "jwks.json"), "--interval", "60", "--wait", "30"],
          ...["--state-dir", `${dir}-state`],
        ],
        dir,
        lines,
      );
    }, 60_000);

    afterAll(async () => {
      await agent?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
      if (dir) await rm(`${dir}-state`, { recursive: true, force: true });
    });

    it("writes a publish within 2 s while long-polling with a 60 s interval, and stops at once", async () => {
      await pollUntil(async () => (written().length === 1 ? true : undefined), {
        timeoutMs: 30_000,
        what: "the agent writing v1",
      });
      expect(lines.find((l) => l.event === "agent.start")).toMatchObject({ longPoll: true, waitSeconds: 30 });
      // Let its next (held) request reach the edge.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect((await admin.publish(key, '{"workers":2}')).status).toBe(201);
      const published = performance.now();
      await pollUntil(async () => (written().length === 2 ? true : undefined), {
        timeoutMs: 10_000,
        intervalMs: 10,
        what: "the agent writing v2",
      });
      const elapsed = performance.now() - published;
      console.log(`long-poll: the agent wrote the publish ${elapsed.toFixed(0)} ms after it was answered`);
      expect(elapsed).toBeLessThan(BOUND_MS);
      expect(await readFile(join(dir, "app.json"), "utf8")).toBe('{"workers":2}');
      // SIGTERM aborts the held request: the agent exits long before its 30 s wait would end.
      const stopping = performance.now();
      expect(await agent?.stop()).toBe(0);
      expect(performance.now() - stopping).toBeLessThan(5000);
    });
  });
});
