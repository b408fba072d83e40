import { describe, expect, it } from "vitest";
import type { AuditEntryDocument as AuditEntry } from "../../origin/contract";
import { adminToken, call, freshNamespace, publishOk } from "./support/origin";

interface AuditBody {
  namespace: string | null;
  entries: AuditEntry[];
  next: string | null;
}

async function audit(query: string, token?: string): Promise<AuditBody> {
  const res = await call("GET", `/v1/audit?${query}`, token === undefined ? {} : { token });
  if (res.status !== 200) throw new Error(`audit answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as AuditBody;
}

describe("GET /v1/audit", () => {
  it("records every change in order: publish, rollback, delete, namespace, token", async () => {
    const ns = freshNamespace();
    const key = `${ns}/app`;
    const v1 = await publishOk(key, { a: 1 }, { token: await adminToken("admin", { sub: "alice" }) });
    await publishOk(key, { a: 2 }, { headers: { "Config-Message": "bump" } });
    await publishOk(key, { a: 2 }); // identical: no entry
    await call("POST", `/v1/configs/${key}/-/rollback`, { json: { to: 1 } });
    await call("DELETE", `/v1/configs/${key}`);
    await call("PUT", `/v1/namespaces/${ns}`, { json: { visibility: "public" } });
    const minted = (await (await call("POST", "/v1/tokens", { json: { scope: `read:${ns}` } })).json()) as {
      token: string;
    };

    const { entries, next } = await audit(`namespace=${ns}`);
    expect(next).toBeNull();
    expect(entries.map((e) => [e.action, e.fromVersion, e.toVersion])).toEqual([
      ["publish", null, 1],
      ["publish", 1, 2],
      ["rollback", 2, 3],
      ["delete", 3, null],
      ["namespace", null, null],
      ["token", null, null],
    ]);
    expect(entries[0]).toMatchObject({ actor: "alice", key, digest: v1.digest });
    expect(entries[1]?.message).toBe("bump");
    expect(entries[2]?.detail).toEqual({ to: 1 });
    expect(entries[4]?.detail).toEqual({ visibility: { from: "private", to: "public" } });
    expect(entries[5]?.detail).toMatchObject({ scope: `read:${ns}` });
    // The token itself is never recorded.
    expect(JSON.stringify(entries)).not.toContain(minted.token);
    expect(JSON.stringify(entries)).not.toContain(minted.token.split(".")[2]);
  });

  it("filters by key and by since, and pages forwards with a cursor", async () => {
    const ns = freshNamespace();
    for (let n = 1; n <= 5; n++) await publishOk(`${ns}/a`, { n });
    await publishOk(`${ns}/b`, { n: 1 });
    const onlyB = await audit(`key=${ns}/b`);
    expect(onlyB.namespace).toBe(ns);
    expect(onlyB.entries.map((e) => e.key)).toEqual([`${ns}/b`]);

    const first = await audit(`namespace=${ns}&key=${ns}/a&limit=2`);
    expect(first.entries.map((e) => e.toVersion)).toEqual([1, 2]);
    const second = await audit(`namespace=${ns}&key=${ns}/a&limit=2&cursor=${first.next}`);
    expect(second.entries.map((e) => e.toVersion)).toEqual([3, 4]);
    const third = await audit(`namespace=${ns}&key=${ns}/a&limit=2&cursor=${second.next}`);
    expect(third.entries.map((e) => e.toVersion)).toEqual([5]);
    expect(third.next).toBeNull();

    const future = await audit(
      `namespace=${ns}&since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
    );
    expect(future.entries).toEqual([]);
    const sinceFourth = await audit(`namespace=${ns}&since=${Date.parse(second.entries[1]?.at ?? "")}`);
    expect(sinceFourth.entries.length).toBeGreaterThanOrEqual(3);
  });

  it("keeps read:* token mints in the global log, readable by admin only", async () => {
    await call("POST", "/v1/tokens", {
      json: { scope: "read:*" },
      token: await adminToken("admin", { sub: "ops" }),
    });
    const global = await audit("limit=1000");
    expect(global.namespace).toBeNull();
    expect(global.entries.some((e) => e.action === "token" && e.actor === "ops")).toBe(true);
    const denied = await call("GET", "/v1/audit", { token: await adminToken("publish:x") });
    expect(denied.status).toBe(403);
  });

  it("needs publish:{namespace}: read access is not enough", async () => {
    const ns = freshNamespace();
    expect(
      (await call("GET", `/v1/audit?namespace=${ns}`, { token: await adminToken(`read:${ns}`) })).status,
    ).toBe(403);
    expect(
      (await call("GET", `/v1/audit?namespace=${ns}`, { token: await adminToken(`publish:${ns}`) })).status,
    ).toBe(200);
  });

  it.each([
    ["a key outside the namespace", "namespace=a&key=b/c"],
    ["a bad since", "namespace=a&since=yesterday"],
    ["a bad limit", "namespace=a&limit=0"],
    ["a bad cursor", "namespace=a&cursor=xyz"],
    ["a bad namespace", "namespace=A!"],
  ])("answers 400 for %s", async (_, query) => {
    expect((await call("GET", `/v1/audit?${query}`)).status).toBe(400);
  });
});
