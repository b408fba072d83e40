import { afterEach, describe, expect, it, vi } from "vitest";
import { publishFixture, readTokenFor, uniqueNamespace } from "../support/snapshot-fixture";
import { bearer, edge, env } from "./harness";

afterEach(() => vi.restoreAllMocks());

describe("request logging", () => {
  it("logs one JSON line per request with key, version, tier and status, never the token", async () => {
    const namespace = uniqueNamespace();
    const key = `${namespace}/svc/conf`;
    await publishFixture(env, { key });
    const token = await readTokenFor(env, `read:${namespace}`);
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    const res = await edge({ log: true }).fetch(`/v1/configs/${key}`, {
      headers: { Authorization: `Bearer ${token}`, "Request-Id": "log-test-1" },
    });
    expect(res.status).toBe(200);
    const requestLines = lines
      .map((line) => JSON.parse(line))
      .filter((entry) => entry.requestId === "log-test-1");
    expect(requestLines).toHaveLength(1);
    expect(requestLines[0]).toMatchObject({
      part: "edge",
      method: "GET",
      status: 200,
      key,
      version: 1,
      tier: "kv",
      stale: false,
    });
    expect(lines.join("\n")).not.toContain(token);
    expect(lines.join("\n")).not.toContain(env.PURGE_SECRET);
  });

  it("logs the purge without its secret", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    await edge({ log: true }).fetch("/internal/purge", {
      method: "POST",
      headers: { "Fleetconf-Purge-Secret": env.PURGE_SECRET },
      body: JSON.stringify({ keys: ["a/b"] }),
    });
    expect(lines.some((line) => line.includes('"purgedKeys":1'))).toBe(true);
    expect(lines.join("\n")).not.toContain(env.PURGE_SECRET);
  });
});

describe("request log sampling (LOG_HIT_SAMPLE)", () => {
  async function hotKey(): Promise<{ key: string; token: string }> {
    const namespace = uniqueNamespace();
    const key = `${namespace}/svc/conf`;
    await publishFixture(env, { key });
    return { key, token: await readTokenFor(env, `read:${namespace}`) };
  }

  function captureLines(): Array<Record<string, unknown>> {
    const lines: Array<Record<string, unknown>> = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => {
      lines.push(JSON.parse(String(line)) as Record<string, unknown>);
    });
    return lines;
  }

  it("logs every 100th fresh memory hit by default, marked sampleRate 100, and every miss", async () => {
    const { key, token } = await hotKey();
    const lines = captureLines();
    const app = edge({ log: true });
    const first = await app.fetch(`/v1/configs/${key}`, bearer(token));
    const etag = first.headers.get("ETag") ?? "";
    for (let i = 0; i < 150; i++) await app.fetch(`/v1/configs/${key}`, bearer(token));
    for (let i = 0; i < 100; i++) {
      const res = await app.fetch(`/v1/configs/${key}`, {
        headers: { Authorization: `Bearer ${token}`, "If-None-Match": etag },
      });
      expect(res.status).toBe(304);
    }
    const requests = lines.filter((line) => line.key === key);
    // The KV miss is always logged; the 250 memory hits (200s and 304s share one counter) give 3.
    expect(requests.map((line) => [line.tier, line.sampleRate ?? 1])).toEqual([
      ["kv", 1],
      ["memory", 100],
      ["memory", 100],
      ["memory", 100],
    ]);
    expect(requests.map((line) => line.status)).toEqual([200, 200, 200, 304]);
  });

  it("always logs errors and other routes, however many", async () => {
    const { key } = await hotKey();
    const lines = captureLines();
    const app = edge({ log: true });
    for (let i = 0; i < 20; i++) expect((await app.fetch(`/v1/configs/${key}`)).status).toBe(401);
    for (let i = 0; i < 20; i++) expect((await app.fetch("/nowhere")).status).toBe(404);
    for (let i = 0; i < 20; i++) expect((await app.fetch("/healthz")).status).toBe(200);
    expect(lines.filter((line) => line.status === 401)).toHaveLength(20);
    expect(lines.filter((line) => line.path === "/nowhere" && line.status === 404)).toHaveLength(20);
    expect(lines.filter((line) => line.path === "/healthz")).toHaveLength(20);
    expect(lines.some((line) => "sampleRate" in line)).toBe(false);
  });

  it('logs every request with LOG_HIT_SAMPLE="1", and falls back to 100 on a malformed value', async () => {
    const { key, token } = await hotKey();
    const lines = captureLines();
    const all = edge({ log: true, vars: { LOG_HIT_SAMPLE: "1" } });
    for (let i = 0; i < 30; i++) await all.fetch(`/v1/configs/${key}`, bearer(token));
    expect(lines.filter((line) => line.key === key)).toHaveLength(30);
    expect(lines.some((line) => "sampleRate" in line)).toBe(false);

    lines.length = 0;
    const malformed = edge({ log: true, vars: { LOG_HIT_SAMPLE: "-5" } });
    for (let i = 0; i < 30; i++) await malformed.fetch(`/v1/configs/${key}`, bearer(token));
    // One KV miss, then the first of the 29 memory hits (sampled at the default, 100).
    expect(lines.filter((line) => line.key === key).map((line) => line.sampleRate ?? 1)).toEqual([1, 100]);
  });

  it("samples 1 in 7 with LOG_HIT_SAMPLE=7: counts scale back to the requests served", async () => {
    const { key, token } = await hotKey();
    const lines = captureLines();
    const app = edge({ log: true, vars: { LOG_HIT_SAMPLE: " 7 " } });
    await app.fetch(`/v1/configs/${key}`, bearer(token));
    for (let i = 0; i < 70; i++) await app.fetch(`/v1/configs/${key}`, bearer(token));
    const hits = lines.filter((line) => line.key === key && line.tier === "memory");
    expect(hits).toHaveLength(10);
    expect(hits.reduce((n, line) => n + Number(line.sampleRate), 0)).toBe(70);
  });
});
