import { describe, expect, it } from "vitest";
import { DEFAULT_NAMESPACE_SETTINGS, kvKeys, type NamespaceSettings } from "../../core";
import { adminToken, call, freshNamespace, originEnv, problemOf } from "./support/origin";

describe("PUT /v1/namespaces/{namespace}", () => {
  it("applies a partial update over the defaults and writes ns/{namespace} to KV", async () => {
    const ns = freshNamespace();
    const res = await call("PUT", `/v1/namespaces/${ns}`, { json: { visibility: "public", maxAge: 30 } });
    expect(res.status).toBe(200);
    const expected: NamespaceSettings = { ...DEFAULT_NAMESPACE_SETTINGS, visibility: "public", maxAge: 30 };
    expect(await res.json()).toEqual({ namespace: ns, ...expected, distribution: "complete" });
    expect(await originEnv.CONFIGS.get(kvKeys.namespace(ns), "json")).toEqual(expected);

    const second = await call("PUT", `/v1/namespaces/${ns}`, { json: { staleIfError: 0 } });
    expect(await second.json()).toMatchObject({ visibility: "public", maxAge: 30, staleIfError: 0 });
    expect(await originEnv.CONFIGS.get(kvKeys.namespace(ns), "json")).toMatchObject({ staleIfError: 0 });
  });

  it("accepts the bounds 0 and 31536000", async () => {
    const ns = freshNamespace();
    const res = await call("PUT", `/v1/namespaces/${ns}`, {
      json: { maxAge: 0, staleWhileRevalidate: 31_536_000 },
    });
    expect(res.status).toBe(200);
  });

  it.each([
    ["an unknown visibility", { visibility: "secret" }],
    ["a negative maxAge", { maxAge: -1 }],
    ["a maxAge over a year", { maxAge: 31_536_001 }],
    ["a fractional staleIfError", { staleIfError: 1.5 }],
    ["a string number", { staleWhileRevalidate: "30" }],
    ["an unknown member", { maxage: 30 }],
    ["a non-object", [1]],
  ])("answers 400 for %s and changes nothing", async (_, json) => {
    const ns = freshNamespace();
    const res = await call("PUT", `/v1/namespaces/${ns}`, { json });
    expect(res.status).toBe(400);
    expect((await problemOf(res)).code).toBe("invalid_request");
    expect(await originEnv.CONFIGS.get(kvKeys.namespace(ns))).toBeNull();
  });

  it("answers 400 for an invalid namespace name and 415 for a non-JSON body", async () => {
    expect((await call("PUT", "/v1/namespaces/Bad_NS", { json: { maxAge: 1 } })).status).toBe(400);
    const res = await call("PUT", `/v1/namespaces/${freshNamespace()}`, {
      body: "maxAge=1",
      headers: { "Content-Type": "text/plain" },
    });
    expect(res.status).toBe(415);
  });

  it("needs the admin scope: publish:{namespace} is refused with 403", async () => {
    const ns = freshNamespace();
    const res = await call("PUT", `/v1/namespaces/${ns}`, {
      json: { visibility: "public" },
      token: await adminToken(`publish:${ns}`),
    });
    expect(res.status).toBe(403);
    expect(await originEnv.CONFIGS.get(kvKeys.namespace(ns))).toBeNull();
  });
});

describe("GET /v1/namespaces/{namespace}", () => {
  it("answers the defaults (private) for a namespace never configured", async () => {
    const ns = freshNamespace();
    const res = await call("GET", `/v1/namespaces/${ns}`, { token: await adminToken(`read:${ns}`) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ namespace: ns, ...DEFAULT_NAMESPACE_SETTINGS });
  });

  it("answers the stored settings and 403 for a token of another namespace", async () => {
    const ns = freshNamespace();
    await call("PUT", `/v1/namespaces/${ns}`, { json: { visibility: "public" } });
    expect(await (await call("GET", `/v1/namespaces/${ns}`)).json()).toMatchObject({ visibility: "public" });
    const other = await call("GET", `/v1/namespaces/${ns}`, { token: await adminToken("read:other") });
    expect(other.status).toBe(403);
  });
});
