/**
 * A namespace's settings entry ages by a short bound at the edge (worker/cache/entries.ts
 * `settingsTiming`), not by the namespace's maxAge: a public → private flip that reaches KV but
 * not the edge's purge (zone mode, a failed purge) takes seconds, not up to a year.
 */
import { describe, expect, it } from "vitest";
import { publicConfig, putNamespaceSettings } from "../support/snapshot-fixture";
import { edge, env } from "./harness";

describe("the namespace settings entry at the edge", () => {
  it("is re-read within 15 s even when the namespace's max-age is a year", async () => {
    const { namespace, key } = await publicConfig(env, {
      settings: { maxAge: 31_536_000, staleWhileRevalidate: 31_536_000, staleIfError: 0 },
    });
    const app = edge();
    const first = await app.fetch(`/v1/configs/${key}`);
    expect(first.status).toBe(200);
    expect(first.headers.get("Cache-Control")).toContain("max-age=31536000");

    // The flip lands in KV; no purge reaches this edge.
    await putNamespaceSettings(env, namespace, { visibility: "private", maxAge: 31_536_000 });
    app.clock.advance(3);
    expect((await app.fetch(`/v1/configs/${key}`)).status).toBe(200);

    // Past 5 s fresh + 10 s revalidation: the next request reads the settings again, refused.
    app.clock.advance(13);
    const res = await app.fetch(`/v1/configs/${key}`);
    expect(res.status).toBe(401);
    expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  });

  it("revalidates in the background between 5 and 15 s (the flip shows on the request after)", async () => {
    const { namespace, key } = await publicConfig(env, { settings: { maxAge: 3600 } });
    const app = edge();
    await app.fetch(`/v1/configs/${key}`);
    await putNamespaceSettings(env, namespace, { visibility: "private", maxAge: 3600 });
    app.clock.advance(7);
    const { res, settle } = await app.send(`/v1/configs/${key}`);
    expect(res.status).toBe(200);
    await settle();
    expect((await app.fetch(`/v1/configs/${key}`)).status).toBe(401);
  });
});
