import { afterEach, describe, expect, it, vi } from "vitest";
import { publishFixture, readTokenFor, uniqueNamespace } from "../support/snapshot-fixture";
import { edge, env } from "./harness";

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
