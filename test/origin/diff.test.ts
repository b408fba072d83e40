/**
 * `GET /v1/configs/{key}/-/diff?from=a&to=b`: an RFC 6902 JSON Patch (with `test` operations before
 * every remove/replace) that turns version a into version b.
 */
import { describe, expect, it } from "vitest";
import type { JsonValue } from "../../core/json-diff";
import { applyPatch, type PatchOperation } from "../../core/json-patch";
import { finish, startRollout } from "./rollout-support";
import { adminToken, call, freshNamespace, problemOf, publishOk } from "./support/origin";

const v1 = { rps: 100, regions: ["eu", "us"], owner: { team: "pay", pager: "a/b" }, beta: false };
const v2 = { rps: 250, regions: ["eu", "apac", "us"], owner: { team: "pay" }, beta: false, limits: [1, 2] };

async function twoVersions() {
  const ns = freshNamespace("df");
  const key = `${ns}/svc/flags`;
  await publishOk(key, v1);
  await publishOk(key, v2);
  return { ns, key };
}

function diff(key: string, query: string, token?: string | null) {
  return call("GET", `/v1/configs/${key}/-/diff?${query}`, token === undefined ? {} : { token });
}

describe("GET /v1/configs/{key}/-/diff", () => {
  it("answers an RFC 6902 patch that turns `from` into `to`", async () => {
    const { key } = await twoVersions();
    const res = await diff(key, "from=1&to=2");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("application/json-patch+json");
    expect(res.headers.get("Config-Diff-From")).toBe("1");
    expect(res.headers.get("Config-Diff-To")).toBe("2");
    const patch = (await res.json()) as PatchOperation[];
    expect(patch).toEqual([
      { op: "test", path: "/rps", value: 100 },
      { op: "replace", path: "/rps", value: 250 },
      { op: "add", path: "/regions/1", value: "apac" },
      { op: "test", path: "/owner/pager", value: "a/b" },
      { op: "remove", path: "/owner/pager" },
      { op: "add", path: "/limits", value: [1, 2] },
    ]);
    expect(applyPatch(v1 as JsonValue, patch)).toEqual(v2);
  });

  it("answers the reverse patch for from=2&to=1, and an empty one for a version against itself", async () => {
    const { key } = await twoVersions();
    const back = (await (await diff(key, "from=2&to=1")).json()) as PatchOperation[];
    expect(applyPatch(v2 as JsonValue, back)).toEqual(v1);
    expect(await (await diff(key, "from=2&to=2")).json()).toEqual([]);
  });

  it("resolves current and candidate during a rollout", async () => {
    const { key } = await twoVersions();
    expect((await startRollout(key, { ...v2, rps: 300 }, "10")).status).toBe(201);
    const res = await diff(key, "from=current&to=candidate");
    expect(res.headers.get("Config-Diff-From")).toBe("2");
    expect(res.headers.get("Config-Diff-To")).toBe("3");
    expect(await res.json()).toEqual([
      { op: "test", path: "/rps", value: 250 },
      { op: "replace", path: "/rps", value: 300 },
    ]);
    await finish(key, "complete");
    expect((await diff(key, "from=1&to=candidate")).status).toBe(404);
  });

  it("keeps working on a deleted key's history", async () => {
    const { key } = await twoVersions();
    await call("DELETE", `/v1/configs/${key}`);
    expect((await diff(key, "from=1&to=2")).status).toBe(200);
    expect((await diff(key, "from=1&to=current")).status).toBe(404);
  });

  it.each([
    ["to is missing", "from=1", 400, "invalid_request"],
    ["from is missing", "to=1", 400, "invalid_request"],
    ["from is not a version", "from=first&to=2", 400, "invalid_version"],
    ["from is 0", "from=0&to=2", 400, "invalid_version"],
    ["a version does not exist", "from=1&to=9", 404, "not_found"],
  ])("answers %s with %i", async (_, query, status, code) => {
    const { key } = await twoVersions();
    const res = await diff(key, query);
    expect(res.status).toBe(status);
    expect((await problemOf(res)).code).toBe(code);
  });

  it("answers 404 for a key never published", async () => {
    const res = await diff(`${freshNamespace("df")}/svc/none`, "from=current&to=1");
    expect(res.status).toBe(404);
  });

  it("needs read:{ns}: 401 without a token, 403 for another namespace", async () => {
    const { ns, key } = await twoVersions();
    expect((await diff(key, "from=1&to=2", null)).status).toBe(401);
    expect((await diff(key, "from=1&to=2", await adminToken("read:other"))).status).toBe(403);
    expect((await diff(key, "from=1&to=2", await adminToken(`read:${ns}`))).status).toBe(200);
  });
});
