/**
 * Config-Freshness, redaction and delete generations with heads read from the origin
 * (`HEAD_SOURCE=origin`, the real origin bound as ORIGIN): `/internal/heads` answers the store's
 * own head, so the edge has the proofs, the redacted list and the floor without KV, and a held
 * long-poll answer carries the proof of the version it names.
 */
import { describe, expect, it } from "vitest";
import { type Jwks, verifyFreshness } from "../../core";
import type { EdgeServices } from "../../worker/services";
import { edge, env } from "./harness";
import { admin, FlakyOrigin, publicKey, publish, purgeInit } from "./origin-support";

function originHeadsEdge() {
  const origin = new FlakyOrigin();
  let services: EdgeServices | undefined;
  const app = edge({
    vars: { HEAD_SOURCE: "origin" },
    origin: origin.wrap,
    originTimeoutMs: 2000,
    headRevalidateMs: 100,
    maxWaiters: 100,
    inspect: (built) => {
      services = built;
    },
  });
  const parked = () => services?.waiters.parked ?? 0;
  return { app, origin, parked };
}

async function proofVersion(res: Response): Promise<number> {
  const header = res.headers.get("Config-Freshness");
  expect(header, "Config-Freshness").not.toBeNull();
  const check = await verifyFreshness(header ?? "", JSON.parse(env.PUBLIC_JWKS) as Jwks);
  if (!check.ok) throw new Error(check.reason);
  expect(check.payload.digest).toBe(res.headers.get("Content-Digest") ?? check.payload.digest);
  return check.payload.ver;
}

describe("Config-Freshness with heads from the origin", () => {
  it("is on a 200 and on a 304 at a long-poll's deadline", async () => {
    const { key } = await publicKey({ v: 1 }, "fr");
    const { app, origin } = originHeadsEdge();
    const first = await app.fetch(`/v1/configs/${key}`);
    expect(first.status).toBe(200);
    expect(origin.headReads).toContain(key);
    expect(await proofVersion(first)).toBe(1);
    const etag = first.headers.get("ETag") ?? "";
    const held = await app.fetch(`/v1/configs/${key}`, {
      headers: { "If-None-Match": etag, Prefer: "wait=1" },
    });
    expect(held.status).toBe(304);
    expect(held.headers.get("Preference-Applied")).toBe("wait=1");
    expect(await proofVersion(held)).toBe(1);
  });

  it("is on a held answer, naming the new version it delivers", async () => {
    const { key } = await publicKey({ v: 1 }, "fr");
    const { app, parked } = originHeadsEdge();
    const etag = (await app.fetch(`/v1/configs/${key}`)).headers.get("ETag") ?? "";
    const held = app.fetch(`/v1/configs/${key}`, { headers: { "If-None-Match": etag, Prefer: "wait=20" } });
    const deadline = Date.now() + 3000;
    while (parked() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await publish(key, { v: 2 });
    await app.fetch("/internal/purge", purgeInit({ keys: [key] }));
    const res = await held;
    expect(res.status).toBe(200);
    expect(res.headers.get("Config-Version")).toBe("2");
    expect(await proofVersion(res)).toBe(2);
  });
});

describe("redaction and delete generations with heads from the origin", () => {
  it("answers 410 for a redacted version and 404 below the floor of a re-created key", async () => {
    const { key } = await publicKey({ secret: "one" }, "fr");
    const { app } = originHeadsEdge();
    await publish(key, { secret: "two" });
    const redact = await admin("POST", `/v1/configs/${key}/-/versions/1/redact`);
    expect(redact.status).toBe(200);
    await app.fetch("/internal/purge", purgeInit({ keys: [key] }));
    expect((await app.fetch(`/v1/configs/${key}?version=1`)).status).toBe(410);

    expect((await admin("DELETE", `/v1/configs/${key}`)).status).toBe(200);
    await publish(key, { secret: "three" });
    await app.fetch("/internal/purge", purgeInit({ keys: [key] }));
    const old = await app.fetch(`/v1/configs/${key}?version=2`);
    expect(old.status).toBe(404);
    expect(await old.text()).not.toContain("two");
    expect(await (await app.fetch(`/v1/configs/${key}`)).json()).toEqual({ secret: "three" });
  });
});
