/**
 * `Vary` names only what an answer depends on (DESIGN §3, RFC 9110 §12.5.5), so a shared cache
 * that honours Vary (Varnish, nginx) keeps one entry per public key and version, not one per
 * client: no Vary outside a rollout, `Config-Client-Id` (with `private`) during one, and
 * `Authorization` for a private namespace.
 */
import { describe, expect, it } from "vitest";
import { bucketOf, inCohort } from "../../core";
import { readTokenFor } from "../support/snapshot-fixture";
import { edge, env } from "./harness";
import { freshKey, publicKey, publish, purgeInit, setNamespace } from "./origin-support";

const originEdge = () => edge({ vars: { HEAD_SOURCE: "origin" } });

describe("Vary on config answers", () => {
  it("sends no Vary for a public key outside a rollout, whatever client id each client sends", async () => {
    const { key } = await publicKey({ v: 1 });
    const app = originEdge();
    const answers = await Promise.all(
      ["a", "b", null].map((id) =>
        app.fetch(`/v1/configs/${key}`, id ? { headers: { "Config-Client-Id": id } } : {}),
      ),
    );
    for (const res of answers) {
      expect(res.status).toBe(200);
      expect(res.headers.get("Vary")).toBeNull();
      expect(res.headers.get("Cache-Control")).toMatch(/^public, /);
    }
    expect(new Set(answers.map((res) => res.headers.get("ETag"))).size).toBe(1);
    const etag = answers[0]?.headers.get("ETag") ?? "";
    const notModified = await app.fetch(`/v1/configs/${key}`, {
      headers: { "If-None-Match": etag, "Config-Client-Id": "c" },
    });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get("Vary")).toBeNull();
  });

  it("varies by Config-Client-Id, and is private, while a rollout makes the answer depend on it", async () => {
    const { key } = await publicKey({ v: 1 });
    await publish(key, { v: 2 }, { "Config-Rollout": "50" });
    const ids = Array.from({ length: 100 }, (_, i) => `c${i}`);
    const candidate = ids.find((id) => inCohort(bucketOf(key, id), 50)) ?? "";
    const stable = ids.find((id) => !inCohort(bucketOf(key, id), 50)) ?? "";
    const app = originEdge();
    const a = await app.fetch(`/v1/configs/${key}`, { headers: { "Config-Client-Id": candidate } });
    const b = await app.fetch(`/v1/configs/${key}`, { headers: { "Config-Client-Id": stable } });
    expect([a.headers.get("Config-Version"), b.headers.get("Config-Version")]).toEqual(["2", "1"]);
    for (const res of [a, b]) {
      expect(res.headers.get("Vary")).toBe("Config-Client-Id");
      expect(res.headers.get("Cache-Control")).toMatch(/^private, /);
    }
    // ?version=N is one immutable representation for everyone, rollout or not.
    const pinned = await app.fetch(`/v1/configs/${key}?version=2`, {
      headers: { "Config-Client-Id": stable },
    });
    expect(pinned.headers.get("Vary")).toBeNull();
    expect(pinned.headers.get("Cache-Control")).toMatch(/^public, .*immutable/);
  });

  it("varies a private namespace's answers by Authorization, and by Config-Client-Id during a rollout", async () => {
    const { key, namespace } = freshKey();
    await setNamespace(namespace, { visibility: "private" });
    await publish(key, { v: 1 });
    const app = originEdge();
    const auth = { Authorization: `Bearer ${await readTokenFor(env, `read:${namespace}`)}` };
    const plain = await app.fetch(`/v1/configs/${key}`, { headers: { ...auth, "Config-Client-Id": "a" } });
    expect(plain.headers.get("Vary")).toBe("Authorization");
    const pinned = await app.fetch(`/v1/configs/${key}?version=1`, { headers: auth });
    expect(pinned.headers.get("Vary")).toBe("Authorization");
    await publish(key, { v: 2 }, { "Config-Rollout": "50" });
    const fresh = originEdge();
    await fresh.fetch("/internal/purge", purgeInit({ keys: [key] }));
    const during = await fresh.fetch(`/v1/configs/${key}`, { headers: { ...auth, "Config-Client-Id": "a" } });
    expect(during.headers.get("Vary")).toBe("Authorization, Config-Client-Id");
  });
});
