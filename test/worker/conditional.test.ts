import { describe, expect, it } from "vitest";
import { publishFixture, putNamespaceSettings, uniqueNamespace } from "../support/snapshot-fixture";
import { edge, env } from "./harness";

const PUBLISHED_AT = Date.UTC(2026, 2, 1, 12, 0, 0, 250);

async function config() {
  const namespace = uniqueNamespace();
  await putNamespaceSettings(env, namespace, { visibility: "public" });
  const key = `${namespace}/svc/conf`;
  const snapshot = await publishFixture(env, { key, content: { a: 1 }, publishedAt: PUBLISHED_AT });
  return { key, etag: snapshot.meta.etag };
}

async function expectNotModified(res: Response, etag: string): Promise<void> {
  expect(res.status).toBe(304);
  expect(res.headers.get("ETag")).toBe(etag);
  expect(res.headers.get("Config-Version")).toBe("1");
  // RFC 9110 §15.4.5: with an ETag, a 304 carries no other representation metadata.
  expect(res.headers.get("Last-Modified")).toBeNull();
  expect(res.headers.get("Content-Digest")).toBeNull();
  expect(res.headers.get("Cache-Control")).toBe(
    "public, max-age=5, stale-while-revalidate=30, stale-if-error=86400",
  );
  expect(res.headers.get("Cache-Status")).toMatch(/^fleetconf-edge; /);
  // Public and outside a rollout: one representation for every client (DESIGN §3).
  expect(res.headers.get("Vary")).toBeNull();
  expect(res.headers.get("Content-Digest")).toBeNull();
  expect(res.headers.get("Config-Signature")).toBeNull();
  expect(await res.text()).toBe("");
}

describe("conditional GET /v1/configs/{key} (RFC 9110 §13.1)", () => {
  it("returns 304 when If-None-Match matches the ETag exactly", async () => {
    const { key, etag } = await config();
    await expectNotModified(
      await edge().fetch(`/v1/configs/${key}`, { headers: { "If-None-Match": etag } }),
      etag,
    );
  });

  it("returns 304 for a weak If-None-Match (weak comparison, §13.1.2)", async () => {
    const { key, etag } = await config();
    const res = await edge().fetch(`/v1/configs/${key}`, { headers: { "If-None-Match": `W/${etag}` } });
    await expectNotModified(res, etag);
  });

  it("returns 304 when the ETag is one of a list", async () => {
    const { key, etag } = await config();
    const list = `"0-AAAAAAAAAAAAAAAAAAAAAA", W/"x",${etag} , "y"`;
    await expectNotModified(
      await edge().fetch(`/v1/configs/${key}`, { headers: { "If-None-Match": list } }),
      etag,
    );
  });

  it("returns 304 for If-None-Match: *", async () => {
    const { key, etag } = await config();
    await expectNotModified(
      await edge().fetch(`/v1/configs/${key}`, { headers: { "If-None-Match": "*" } }),
      etag,
    );
  });

  it("returns 200 with the body when If-None-Match does not match", async () => {
    const { key } = await config();
    const res = await edge().fetch(`/v1/configs/${key}`, {
      headers: { "If-None-Match": '"1-nope", "2-nope"' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ a: 1 });
  });

  it("returns 200 once a new version is published over the client's ETag", async () => {
    const { key, etag } = await config();
    const app = edge();
    await app.fetch(`/v1/configs/${key}`);
    await publishFixture(env, { key, version: 2, content: { a: 2 } });
    app.clock.advance(60);
    const res = await app.fetch(`/v1/configs/${key}`, { headers: { "If-None-Match": etag } });
    expect(res.status).toBe(200);
    expect(res.headers.get("Config-Version")).toBe("2");
  });

  it("returns 304 when If-Modified-Since is at or after Last-Modified", async () => {
    const { key, etag } = await config();
    const app = edge();
    const lastModified = new Date(PUBLISHED_AT).toUTCString(); // second precision, below the ms
    await expectNotModified(
      await app.fetch(`/v1/configs/${key}`, { headers: { "If-Modified-Since": lastModified } }),
      etag,
    );
    const later = new Date(PUBLISHED_AT + 3600_000).toUTCString();
    await expectNotModified(
      await app.fetch(`/v1/configs/${key}`, { headers: { "If-Modified-Since": later } }),
      etag,
    );
  });

  it("returns 200 when If-Modified-Since is before Last-Modified or not a date", async () => {
    const { key } = await config();
    const app = edge();
    for (const since of [new Date(PUBLISHED_AT - 1000).toUTCString(), "yesterday"]) {
      const res = await app.fetch(`/v1/configs/${key}`, { headers: { "If-Modified-Since": since } });
      expect(res.status, since).toBe(200);
    }
  });

  it("ignores If-Modified-Since when If-None-Match is present (§13.1.3)", async () => {
    const { key } = await config();
    const res = await edge().fetch(`/v1/configs/${key}`, {
      headers: {
        "If-None-Match": '"other"',
        "If-Modified-Since": new Date(PUBLISHED_AT + 1e6).toUTCString(),
      },
    });
    expect(res.status).toBe(200);
  });

  it("returns 304 for ?version=N with the immutable Cache-Control", async () => {
    const { key, etag } = await config();
    const res = await edge().fetch(`/v1/configs/${key}?version=1`, { headers: { "If-None-Match": etag } });
    expect(res.status).toBe(304);
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
  });

  it("returns 304 for a conditional HEAD", async () => {
    const { key, etag } = await config();
    const res = await edge().fetch(`/v1/configs/${key}`, {
      method: "HEAD",
      headers: { "If-None-Match": etag },
    });
    expect(res.status).toBe(304);
    expect(res.headers.get("ETag")).toBe(etag);
  });

  it("checks the token before answering 304 on a private namespace", async () => {
    const namespace = uniqueNamespace();
    const key = `${namespace}/svc/conf`;
    const snapshot = await publishFixture(env, { key });
    const res = await edge().fetch(`/v1/configs/${key}`, {
      headers: { "If-None-Match": snapshot.meta.etag },
    });
    expect(res.status).toBe(401);
  });
});
