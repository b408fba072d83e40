/**
 * Redaction and delete generations (DESIGN §8), through the origin's real store, KV and the real
 * edge bound as EDGE: a redacted version's bytes leave SQLite, KV and the edge's tiers, the edge
 * answers 410 for it, and a key deleted and re-created never serves a version from before.
 */
import { describe, expect, it } from "vitest";
import { type HeadRecord, kvKeys } from "../../core";
import { adminToken, call, freshNamespace, originEnv, problemOf, publishOk, storeOf } from "./support/origin";

function edge(path: string, headers: Record<string, string> = {}): Promise<Response> {
  if (!originEnv.EDGE) throw new Error("the origin test project needs the EDGE binding");
  return originEnv.EDGE.fetch(`https://edge.test${path}`, { headers });
}

async function publicKey(): Promise<{ ns: string; key: string }> {
  const ns = freshNamespace();
  // A long max-age: anything the edge still serves after a change came from a tier, not a refresh.
  await call("PUT", `/v1/namespaces/${ns}`, { json: { visibility: "public", maxAge: 3600 } });
  return { ns, key: `${ns}/app` };
}

const redact = (ns: string, key: string, version: number) =>
  storeOf(ns).redact({ namespace: ns, key, version, actor: "tester", message: "leaked secret" });

describe("redaction", () => {
  it("removes the version's bytes from KV and the edge: 410 problem+json, even after it was cached", async () => {
    const { ns, key } = await publicKey();
    await publishOk(key, { password: "hunter2" });
    await publishOk(key, { password: null });
    // Warm every tier of the edge with the secret.
    const warm = await edge(`/v1/configs/${key}?version=1`);
    expect(await warm.text()).toContain("hunter2");

    const result = await redact(ns, key, 1);
    expect(result).toMatchObject({ ok: true, value: { redacted: true, distribution: "complete" } });
    expect(await originEnv.CONFIGS.get(kvKeys.snapshot(key, 1))).toBeNull();
    const head = (await originEnv.CONFIGS.get(kvKeys.head(key), "json")) as HeadRecord;
    expect(head.redacted).toEqual([1]);

    const gone = await edge(`/v1/configs/${key}?version=1`);
    expect(gone.status).toBe(410);
    const problem = await problemOf(gone);
    expect(problem.code).toBe("gone");
    expect(JSON.stringify(problem)).not.toContain("hunter2");
    // The current version is untouched.
    const live = await edge(`/v1/configs/${key}`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ password: null });
  });

  it("empties the origin's copy: the version reads 410, history keeps the row, the audit says who", async () => {
    const { ns, key } = await publicKey();
    await publishOk(key, { secret: "x".repeat(100) });
    await publishOk(key, { secret: null });
    await redact(ns, key, 1);
    const read = await call("GET", `/v1/configs/${key}/-/versions/1`);
    expect(read.status).toBe(410);
    expect(await read.text()).not.toContain("xxxx");
    const history = (await storeOf(ns).history(key, null, 10)) as {
      ok: true;
      value: { versions: { version: number; redactedAt?: number }[] };
    };
    expect(history.value.versions.find((v) => v.version === 1)?.redactedAt).toBeTypeOf("number");
    const audit = await storeOf(ns).audit({ key, since: null, afterId: null, limit: 10 });
    expect(
      audit.entries.some((e) => e.action === "redact" && e.fromVersion === 1 && e.actor === "tester"),
    ).toBe(true);
  });

  it("refuses the live version (409) and a rollback to a redacted one (410), and is idempotent", async () => {
    const { ns, key } = await publicKey();
    await publishOk(key, { v: 1 });
    await publishOk(key, { v: 2 });
    expect(await redact(ns, key, 2)).toMatchObject({ ok: false, code: "conflict" });
    expect(await redact(ns, key, 9)).toMatchObject({ ok: false, code: "not_found" });
    expect(await redact(ns, key, 1)).toMatchObject({ ok: true, value: { redacted: true } });
    expect(await redact(ns, key, 1)).toMatchObject({ ok: true, value: { redacted: false } });
    const rollback = await call("POST", `/v1/configs/${key}/-/rollback`, { json: { to: 1 } });
    expect(rollback.status).toBe(410);
    expect((await problemOf(rollback)).code).toBe("gone");
  });
});

describe("POST /v1/configs/{key}/-/versions/{n}/redact", () => {
  it("redacts with a publish token: 200, audit names the message, history shows redactedAt", async () => {
    const { ns, key } = await publicKey();
    await publishOk(key, { token: "leaked" });
    await publishOk(key, { token: null });
    const publisher = await adminToken(`publish:${ns}`);
    const res = await call("POST", `/v1/configs/${key}/-/versions/1/redact`, {
      token: publisher,
      headers: { "Config-Message": "rotated the leaked token" },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ key, version: 1, redacted: true, distribution: "complete" });
    expect((await edge(`/v1/configs/${key}?version=1`)).status).toBe(410);
    const history = (await (await call("GET", `/v1/configs/${key}/-/versions`)).json()) as {
      versions: { version: number; redactedAt?: string }[];
    };
    expect(history.versions.find((v) => v.version === 1)?.redactedAt).toMatch(/^\d{4}-/);
    expect(history.versions.find((v) => v.version === 2)?.redactedAt).toBeUndefined();
    const audit = (await (await call("GET", `/v1/audit?namespace=${ns}`)).json()) as {
      entries: { action: string; message: string | null }[];
    };
    expect(audit.entries).toContainEqual(
      expect.objectContaining({ action: "redact", message: "rotated the leaked token" }),
    );
  });

  it.each([
    ["a read token", async (ns: string) => adminToken(`read:${ns}`), 403],
    ["no token", async () => null, 401],
  ])("refuses %s", async (_name, token, status) => {
    const { ns, key } = await publicKey();
    await publishOk(key, { v: 1 });
    await publishOk(key, { v: 2 });
    const res = await call("POST", `/v1/configs/${key}/-/versions/1/redact`, { token: await token(ns) });
    expect(res.status).toBe(status);
    expect((await edge(`/v1/configs/${key}?version=1`)).status).toBe(200);
  });

  it("answers 409 problem+json for the live version and 404 for an unknown one", async () => {
    const { key } = await publicKey();
    await publishOk(key, { v: 1 });
    const live = await call("POST", `/v1/configs/${key}/-/versions/1/redact`);
    expect(live.status).toBe(409);
    expect((await problemOf(live)).detail).toContain("publish the corrected config");
    expect((await call("POST", `/v1/configs/${key}/-/versions/7/redact`)).status).toBe(404);
    expect((await call("POST", `/v1/configs/${key}/-/versions/x/redact`)).status).toBe(400);
  });
});

describe("delete generations", () => {
  it("a key deleted and re-created never serves versions from before the delete", async () => {
    const { key } = await publicKey();
    await publishOk(key, { secret: "old" });
    expect((await edge(`/v1/configs/${key}?version=1`)).status).toBe(200);
    await call("DELETE", `/v1/configs/${key}`);
    const again = await publishOk(key, { secret: "new" });
    expect(again.version).toBe(2);
    const head = (await originEnv.CONFIGS.get(kvKeys.head(key), "json")) as HeadRecord;
    expect(head.floor).toBe(2);

    const old = await edge(`/v1/configs/${key}?version=1`);
    expect(old.status).toBe(404);
    expect(await old.text()).not.toContain("old");
    const current = await edge(`/v1/configs/${key}`);
    expect(await current.json()).toEqual({ secret: "new" });
    expect((await edge(`/v1/configs/${key}?version=2`)).status).toBe(200);
  });

  it("keeps the floor at 1 for a key never deleted", async () => {
    const { key } = await publicKey();
    await publishOk(key, { v: 1 });
    await publishOk(key, { v: 2 });
    const head = (await originEnv.CONFIGS.get(kvKeys.head(key), "json")) as HeadRecord;
    expect(head.floor).toBe(1);
    expect((await edge(`/v1/configs/${key}?version=1`)).status).toBe(200);
  });
});
