import { describe, expect, it } from "vitest";
import { prepareSnapshot } from "../../worker/cache/prepared";
import { flagSetOf } from "../../worker/ofrep/flag-set";
import { demoFlags } from "../support/flagd-fixture";
import {
  publishFixture,
  putNamespaceSettings,
  readTokenFor,
  uniqueNamespace,
} from "../support/snapshot-fixture";
import { type Edge, edge, env } from "./harness";

interface Published {
  namespace: string;
  key: string;
}

async function publicFlags(content: unknown = demoFlags(), version = 1): Promise<Published> {
  const namespace = uniqueNamespace();
  await putNamespaceSettings(env, namespace, { visibility: "public" });
  const key = `${namespace}/flags`;
  await publishFixture(env, { key, content, version });
  return { namespace, key };
}

function evaluate(
  app: Edge,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return app.fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

const single = (flag: string) => `/ofrep/v1/evaluate/flags/${encodeURIComponent(flag)}`;
const BULK = "/ofrep/v1/evaluate/flags";

describe("POST /ofrep/v1/evaluate/flags/{flag}", () => {
  it("returns a static flag's value, variant, reason STATIC and metadata", async () => {
    const { key } = await publicFlags();
    const res = await evaluate(edge(), single("new-checkout"), { context: {} }, { "Config-Flags-Key": key });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("application/json");
    expect(res.headers.get("Config-Version")).toBe("1");
    expect(await res.json()).toEqual({
      key: "new-checkout",
      value: true,
      reason: "STATIC",
      variant: "on",
      metadata: { flagSetId: "demo", version: "1" },
    });
  });

  it("applies targeting rules (a shared $evaluators rule) to the context", async () => {
    const { key } = await publicFlags();
    const app = edge();
    const headers = { "Config-Flags-Key": key };
    const staff = await evaluate(
      app,
      single("welcome-text"),
      { context: { targetingKey: "u1", email: "ann@example.com" } },
      headers,
    );
    expect(await staff.json()).toMatchObject({
      value: "Hello, colleague",
      variant: "staff",
      reason: "TARGETING_MATCH",
      metadata: { owner: "growth" },
    });
    const guest = await evaluate(
      app,
      single("welcome-text"),
      { context: { targetingKey: "u2", email: "bob@elsewhere.org" } },
      headers,
    );
    expect(await guest.json()).toMatchObject({ value: "Hello", variant: "plain", reason: "DEFAULT" });
  });

  it("buckets fractional flags by targetingKey: stable per key and split near the weights", async () => {
    const { key } = await publicFlags();
    const app = edge();
    const headers = { "Config-Flags-Key": key };
    const counts = { red: 0, blue: 0 };
    for (let i = 0; i < 200; i++) {
      const res = await evaluate(
        app,
        single("color-split"),
        { context: { targetingKey: `user-${i}` } },
        headers,
      );
      const body = (await res.json()) as { value: "red" | "blue"; reason: string };
      expect(body.reason).toBe("TARGETING_MATCH");
      counts[body.value]++;
    }
    // 200 draws of a fair split: outside 70..130 has probability < 0.0001.
    expect(counts.red).toBeGreaterThan(70);
    expect(counts.blue).toBeGreaterThan(70);
    const again = async () =>
      (
        (await (
          await evaluate(app, single("color-split"), { context: { targetingKey: "user-7" } }, headers)
        ).json()) as { value: string }
      ).value;
    expect(await again()).toBe(await again());
  });

  it("returns object and number values as they are in the variants", async () => {
    const { key } = await publicFlags();
    const app = edge();
    const limits = await evaluate(app, single("limits"), { context: {} }, { "Config-Flags-Key": key });
    expect(await limits.json()).toMatchObject({ value: { rps: 10 }, variant: "small" });
    const items = await evaluate(app, single("max-items"), { context: {} }, { "Config-Flags-Key": key });
    expect(await items.json()).toMatchObject({ value: 3, variant: "few" });
  });

  it("answers a disabled flag as not found, so the application's code default applies", async () => {
    const { key } = await publicFlags();
    const res = await evaluate(edge(), single("retired"), { context: {} }, { "Config-Flags-Key": key });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ key: "retired", errorCode: "FLAG_NOT_FOUND" });
  });

  it("returns 404 FLAG_NOT_FOUND in the OFREP shape for a flag the set does not have", async () => {
    const { key } = await publicFlags();
    const res = await evaluate(edge(), single("no-such-flag"), { context: {} }, { "Config-Flags-Key": key });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ key: "no-such-flag", errorCode: "FLAG_NOT_FOUND" });
  });

  it.each([
    ["a context that is not an object", { context: "user-1" }],
    ["a context that is an array", { context: [1] }],
    ["a non-string targetingKey", { context: { targetingKey: 7 } }],
    ["a body that is not JSON", "{not json"],
    ["a body that is not an object", "[]"],
  ])("returns 400 INVALID_CONTEXT for %s", async (_what, body) => {
    const { key } = await publicFlags();
    const res = await evaluate(edge(), single("new-checkout"), body, { "Config-Flags-Key": key });
    expect(res.status).toBe(400);
    expect(res.headers.get("Content-Type")).toBe("application/json");
    expect(await res.json()).toMatchObject({ key: "new-checkout", errorCode: "INVALID_CONTEXT" });
  });

  it("returns 400 PARSE_ERROR when the named key is not a flagd flag definition", async () => {
    const namespace = uniqueNamespace();
    await putNamespaceSettings(env, namespace, { visibility: "public" });
    const key = `${namespace}/app/settings`;
    await publishFixture(env, { key, content: { flags: "not a map of flags" } });
    const res = await evaluate(edge(), single("new-checkout"), { context: {} }, { "Config-Flags-Key": key });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ key: "new-checkout", errorCode: "PARSE_ERROR" });
  });

  it("returns 404 problem+json when no flags config is published at the key", async () => {
    const namespace = uniqueNamespace();
    await putNamespaceSettings(env, namespace, { visibility: "public" });
    const res = await evaluate(
      edge(),
      single("x"),
      { context: {} },
      { "Config-Flags-Key": `${namespace}/flags` },
    );
    expect(res.status).toBe(404);
    expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  });

  it("returns 400 problem+json for an invalid Config-Flags-Key", async () => {
    const res = await evaluate(edge(), single("x"), { context: {} }, { "Config-Flags-Key": "Not/A/Key!" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_key" });
  });

  it("decodes a percent-encoded flag name once", async () => {
    const content = demoFlags();
    const flags: Record<string, unknown> = {
      ...content.flags,
      "team/ui flag": content.flags["new-checkout"],
    };
    const { key } = await publicFlags({ ...content, flags });
    const res = await evaluate(edge(), single("team/ui flag"), { context: {} }, { "Config-Flags-Key": key });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ key: "team/ui flag", value: true });
  });

  it("answers other methods with 405 and Allow: POST", async () => {
    const res = await edge().fetch(single("new-checkout"));
    expect(res.status).toBe(405);
    expect(res.headers.get("Allow")).toBe("POST");
  });

  it("answers a CORS preflight so browsers may call it with a token and If-None-Match", async () => {
    const res = await edge().fetch(BULK, {
      method: "OPTIONS",
      headers: {
        Origin: "https://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, authorization, if-none-match",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(res.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain("if-none-match");
  });
});

describe("POST /ofrep/v1/evaluate/flags (bulk)", () => {
  it("evaluates every enabled flag, leaves disabled ones out and returns the flag-set metadata", async () => {
    const { key } = await publicFlags();
    const res = await evaluate(
      edge(),
      BULK,
      { context: { targetingKey: "u1", email: "a@example.com" } },
      { "Config-Flags-Key": key },
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { flags: { key: string; value?: unknown }[]; metadata: unknown };
    expect(body.flags.map((f) => f.key).sort()).toEqual([
      "color-split",
      "limits",
      "max-items",
      "new-checkout",
      "welcome-text",
    ]);
    expect(body.flags.find((f) => f.key === "welcome-text")?.value).toBe("Hello, colleague");
    expect(body.metadata).toEqual({ flagSetId: "demo", version: "1" });
    expect(res.headers.get("ETag")).toMatch(/^"ofrep-[A-Za-z0-9_-]+"$/);
    expect(res.headers.get("Access-Control-Expose-Headers")).toContain("ETag");
  });

  it("returns 304 with the same ETag when If-None-Match matches the same flags and context", async () => {
    const { key } = await publicFlags();
    const app = edge();
    const headers = { "Config-Flags-Key": key };
    const first = await evaluate(app, BULK, { context: { targetingKey: "u1", plan: "pro" } }, headers);
    const etag = first.headers.get("ETag") ?? "";
    // The same context with its members in another order is the same representation.
    const again = await evaluate(
      app,
      BULK,
      { context: { plan: "pro", targetingKey: "u1" } },
      { ...headers, "If-None-Match": etag },
    );
    expect(again.status).toBe(304);
    expect(again.headers.get("ETag")).toBe(etag);
    expect(await again.text()).toBe("");
    const weak = await evaluate(
      app,
      BULK,
      { context: { targetingKey: "u1", plan: "pro" } },
      { ...headers, "If-None-Match": `W/${etag}` },
    );
    expect(weak.status).toBe(304);
  });

  it("returns 200 with another ETag when the context differs", async () => {
    const { key } = await publicFlags();
    const app = edge();
    const headers = { "Config-Flags-Key": key };
    const first = await evaluate(app, BULK, { context: { targetingKey: "u1" } }, headers);
    const etag = first.headers.get("ETag") ?? "";
    const other = await evaluate(
      app,
      BULK,
      { context: { targetingKey: "u2" } },
      { ...headers, "If-None-Match": etag },
    );
    expect(other.status).toBe(200);
    expect(other.headers.get("ETag")).not.toBe(etag);
  });

  it("returns 200 with the new values once a new flags version is published (after max-age)", async () => {
    const { key } = await publicFlags();
    const app = edge();
    const headers = { "Config-Flags-Key": key };
    const first = await evaluate(app, BULK, { context: {} }, headers);
    const etag = first.headers.get("ETag") ?? "";
    await publishFixture(env, { key, content: demoFlags({ welcome: "Bonjour" }), version: 2 });
    app.clock.advance(40); // past max-age 5 + stale-while-revalidate 30: the head is re-read
    const after = await evaluate(app, BULK, { context: {} }, { ...headers, "If-None-Match": etag });
    expect(after.status).toBe(200);
    expect(after.headers.get("Config-Version")).toBe("2");
    const body = (await after.json()) as { flags: { key: string; value?: unknown }[] };
    expect(body.flags.find((f) => f.key === "welcome-text")?.value).toBe("Bonjour");
  });

  it("keeps evaluating from the last good flags when KV fails (stale-if-error, as config reads)", async () => {
    const { key } = await publicFlags();
    const app = edge();
    const headers = { "Config-Flags-Key": key };
    expect((await evaluate(app, BULK, { context: {} }, headers)).status).toBe(200);
    app.kv.mode = "fail";
    app.clock.advance(40); // past max-age + stale-while-revalidate: the head must be re-read, and KV is down
    const res = await evaluate(app, single("new-checkout"), { context: {} }, headers);
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Status")).toContain("fwd=stale");
    expect(await res.json()).toMatchObject({ value: true });
  });

  it("returns 400 INVALID_CONTEXT in the bulk failure shape for a context that is not an object", async () => {
    const { key } = await publicFlags();
    const res = await evaluate(edge(), BULK, { context: 42 }, { "Config-Flags-Key": key });
    expect(res.status).toBe(400);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ errorCode: "INVALID_CONTEXT" });
    expect(body).not.toHaveProperty("key");
  });

  it("returns 400 PARSE_ERROR for a flags key that is not a flagd document", async () => {
    const { key } = await publicFlags({ hello: "world" });
    const res = await evaluate(edge(), BULK, { context: {} }, { "Config-Flags-Key": key });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ errorCode: "PARSE_ERROR" });
  });

  it("refuses a body larger than 64 KiB as INVALID_CONTEXT", async () => {
    const { key } = await publicFlags();
    const res = await evaluate(
      edge(),
      BULK,
      { context: { blob: "x".repeat(70_000) } },
      { "Config-Flags-Key": key },
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ errorCode: "INVALID_CONTEXT" });
  });
});

describe("OFREP on private namespaces", () => {
  async function privateFlags(): Promise<Published> {
    const namespace = uniqueNamespace();
    const key = `${namespace}/flags`;
    await publishFixture(env, { key, content: demoFlags() });
    return { namespace, key };
  }

  it("returns 401 problem+json without a read token", async () => {
    const { key } = await privateFlags();
    const res = await evaluate(edge(), BULK, { context: {} }, { "Config-Flags-Key": key });
    expect(res.status).toBe(401);
    expect(res.headers.get("Content-Type")).toBe("application/problem+json");
    expect(res.headers.get("WWW-Authenticate")).toContain("Bearer");
  });

  it("returns 403 for a token of another namespace", async () => {
    const { key } = await privateFlags();
    const token = await readTokenFor(env, `read:${uniqueNamespace()}`);
    const res = await evaluate(
      edge(),
      single("new-checkout"),
      { context: {} },
      { "Config-Flags-Key": key, Authorization: `Bearer ${token}` },
    );
    expect(res.status).toBe(403);
  });

  it("returns 401 for a forged or expired token", async () => {
    const { key, namespace } = await privateFlags();
    const expired = await readTokenFor(env, `read:${namespace}`, {
      nowSeconds: Math.floor(Date.now() / 1000) - 7200,
    });
    const res = await evaluate(
      edge(),
      single("new-checkout"),
      { context: {} },
      { "Config-Flags-Key": key, Authorization: `Bearer ${expired}` },
    );
    expect(res.status).toBe(401);
    const forged = await evaluate(
      edge(),
      single("new-checkout"),
      { context: {} },
      { "Config-Flags-Key": key, Authorization: "Bearer a.b.c" },
    );
    expect(forged.status).toBe(401);
  });

  it("reads {namespace}/flags for a token scoped to one namespace, without Config-Flags-Key", async () => {
    const { namespace } = await privateFlags();
    const token = await readTokenFor(env, `read:${namespace}`);
    const res = await evaluate(
      edge(),
      single("new-checkout"),
      { context: {} },
      { Authorization: `Bearer ${token}` },
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ value: true });
  });

  it("asks for Config-Flags-Key when the token covers every namespace", async () => {
    await privateFlags();
    const token = await readTokenFor(env, "read:*");
    const res = await evaluate(edge(), BULK, { context: {} }, { Authorization: `Bearer ${token}` });
    expect(res.status).toBe(400);
    expect(res.headers.get("Content-Type")).toBe("application/problem+json");
    expect(((await res.json()) as { detail: string }).detail).toContain("Config-Flags-Key");
  });

  it("asks for Config-Flags-Key when there is neither the header nor a token", async () => {
    const res = await evaluate(edge(), BULK, { context: {} });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toContain("Config-Flags-Key");
  });
});

describe("parsed flag sets", () => {
  it("parses a snapshot's flag definitions once and reuses them while the snapshot is held", async () => {
    const snapshot = prepareSnapshot(
      await publishFixture(env, { key: `${uniqueNamespace()}/flags`, content: demoFlags() }),
    );
    const first = flagSetOf(snapshot);
    expect(first.ok).toBe(true);
    expect(flagSetOf(snapshot)).toBe(first);
    const other = prepareSnapshot(
      await publishFixture(env, { key: `${uniqueNamespace()}/flags`, content: demoFlags() }),
    );
    expect(flagSetOf(other)).not.toBe(first);
  });
});
