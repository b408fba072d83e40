/**
 * Per-isolate metrics: one `edge_metrics` JSON line per interval with requests by status, tier
 * hits, stale answers, KV errors, purges and fleet batches; and Server-Timing on every answer.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { publishFixture, putNamespaceSettings, uniqueNamespace } from "../support/snapshot-fixture";
import { edge, env } from "./harness";

afterEach(() => vi.restoreAllMocks());

function metricLines(lines: string[]): Record<string, unknown>[] {
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === "edge_metrics");
}

describe("edge metrics", () => {
  it("logs one edge_metrics line per interval with the interval's counts, then starts over", async () => {
    const namespace = uniqueNamespace();
    const key = `${namespace}/svc/conf`;
    await putNamespaceSettings(env, namespace, { visibility: "public" });
    await publishFixture(env, { key });
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    let wall = Date.now();
    const e = edge({ telemetry: { metricsIntervalMs: 60_000, sink: () => null, now: () => wall } });
    expect((await e.fetch(`/v1/configs/${key}`)).status).toBe(200);
    expect((await e.fetch(`/v1/configs/${key}`)).status).toBe(200);
    expect((await e.fetch(`/v1/configs/${namespace}/svc/none`)).status).toBe(404);
    expect(metricLines(lines)).toEqual([]);
    wall += 60_000;
    const purge = await e.fetch("/internal/purge", {
      method: "POST",
      headers: { "Fleetconf-Purge-Secret": env.PURGE_SECRET },
      body: JSON.stringify({ keys: [key] }),
    });
    expect(purge.status).toBe(200);
    const [line] = metricLines(lines);
    expect(metricLines(lines)).toHaveLength(1);
    expect(line).toMatchObject({
      part: "edge",
      requests: 4,
      byStatus: { "200": 3, "404": 1 },
      tiers: { memory: 1, cache: 0, kv: 1 },
      stale: 0,
      kvErrors: 0,
      purges: 1,
      availability: 1,
    });
    expect(line?.fleet).toMatchObject({ recorded: 0, dropped: 0, batchesSent: 0, batchesFailed: 0 });
    // The next line counts only what came after.
    wall += 60_000;
    await e.fetch(`/v1/configs/${key}`);
    expect(metricLines(lines)[1]).toMatchObject({ requests: 1 });
  });

  it("counts answers served stale because KV failed as KV errors, and as available", async () => {
    const namespace = uniqueNamespace();
    const key = `${namespace}/svc/conf`;
    await putNamespaceSettings(env, namespace, { visibility: "public", maxAge: 1 });
    await publishFixture(env, { key });
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    const e = edge({ telemetry: { metricsIntervalMs: 1, sink: () => null } });
    expect((await e.fetch(`/v1/configs/${key}`)).status).toBe(200);
    e.clock.advance(120);
    e.kv.mode = "fail";
    const stale = await e.fetch(`/v1/configs/${key}`);
    expect(stale.status).toBe(200);
    const last = metricLines(lines).at(-1);
    expect(last).toMatchObject({ stale: 1, kvErrors: 1, availability: 1 });
  });

  it("sends Server-Timing with the edge's duration and tier", async () => {
    const namespace = uniqueNamespace();
    const key = `${namespace}/svc/conf`;
    await putNamespaceSettings(env, namespace, { visibility: "public" });
    await publishFixture(env, { key });
    const res = await edge().fetch(`/v1/configs/${key}`);
    expect(res.headers.get("Server-Timing")).toMatch(/^edge;dur=[0-9.]+;desc="kv"$/);
  });
});
