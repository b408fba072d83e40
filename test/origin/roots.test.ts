/**
 * Trust roots (DESIGN §8): `PUT /v1/roots/{N}` stores a root only when it extends the chain the
 * way clients check it (core/trust-root.ts), writes it to KV, and the real edge serves it at
 * `/.well-known/fleetconf-root.json[?version=N]`. Roots are global, so this file's tests run in
 * order, building one chain.
 */
import { describe, expect, it } from "vitest";
import {
  generateSigningJwk,
  type Jwks,
  type PrivateJwk,
  type PublicJwk,
  publicPart,
  ROOT_TYPE,
  type RootDocument,
  type RootSigned,
  signRoot,
} from "../../core";
import { adminToken, call, originEnv, problemOf } from "./support/origin";

function edge(path: string): Promise<Response> {
  if (!originEnv.EDGE) throw new Error("the origin test project needs the EDGE binding");
  return originEnv.EDGE.fetch(`https://edge.test${path}`);
}

const snapshotKeys = (): PublicJwk[] =>
  (JSON.parse(originEnv.PUBLIC_JWKS) as Jwks).keys.filter((k) => (k.purpose ?? "snapshot") === "snapshot");

function rootOf(version: number, rootKeys: PrivateJwk[], extra: Partial<RootSigned> = {}): RootSigned {
  return {
    type: ROOT_TYPE,
    version,
    expires: "2030-01-01T00:00:00Z",
    threshold: 1,
    keys: [...rootKeys.map(publicPart), ...snapshotKeys()],
    revoked: [],
    ...extra,
  };
}

const put = (doc: RootDocument, version = doc.signed.version, token?: string) =>
  call("PUT", `/v1/roots/${version}`, { json: doc, ...(token === undefined ? {} : { token }) });

describe.sequential("the trust-root chain", () => {
  let r1: PrivateJwk;
  let r2: PrivateJwk;
  let v1: RootDocument;
  let v2: RootDocument;

  it("stores v1 (self-signed to its threshold) and the edge serves it, latest and ?version=1", async () => {
    r1 = await generateSigningJwk("root");
    r2 = await generateSigningJwk("root");
    v1 = await signRoot(rootOf(1, [r1]), [r1]);
    const res = await put(v1);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ version: 1, created: true, distribution: "complete" });
    const latest = await edge("/.well-known/fleetconf-root.json");
    expect(latest.status).toBe(200);
    expect(latest.headers.get("Cache-Control")).toBe("public, max-age=60");
    expect(await latest.json()).toEqual(v1);
    const pinned = await edge("/.well-known/fleetconf-root.json?version=1");
    expect(pinned.headers.get("Cache-Control")).toContain("immutable");
    expect(await pinned.json()).toEqual(v1);
  });

  it("answers 200 unchanged for the same v1 again", async () => {
    expect(await (await put(v1)).json()).toMatchObject({ version: 1, created: false });
  });

  it("refuses a v2 signed only by a key v1 does not list (an attacker's): 400, nothing stored", async () => {
    const mallory = await generateSigningJwk("root");
    const forged = await signRoot(rootOf(2, [mallory]), [mallory]);
    const res = await put(forged);
    expect(res.status).toBe(400);
    expect((await problemOf(res)).detail).toMatch(/signatures needed from v1's root keys/);
    expect((await edge("/.well-known/fleetconf-root.json?version=2")).status).toBe(404);
  });

  it("refuses a v2 that does not list the origin's signing key (409), a gap (409), a path mismatch (400)", async () => {
    const withoutSigner = await signRoot(rootOf(2, [r1], { keys: [publicPart(r1)] }), [r1]);
    expect((await put(withoutSigner)).status).toBe(409);
    const gap = await signRoot(rootOf(3, [r1]), [r1]);
    expect((await put(gap)).status).toBe(409);
    const ok = await signRoot(rootOf(2, [r1]), [r1]);
    expect((await put(ok, 5)).status).toBe(400);
  });

  it("refuses a non-admin token (403) and a body that is not a root (400)", async () => {
    const doc = await signRoot(rootOf(2, [r1]), [r1]);
    expect((await put(doc, 2, await adminToken("publish:anything"))).status).toBe(403);
    const junk = await call("PUT", "/v1/roots/2", { json: { signed: {}, signatures: [] } });
    expect(junk.status).toBe(400);
  });

  it("stores v2 adding r2 and revoking r1, signed by r1 (v1's threshold) and r2 (its own)", async () => {
    v2 = await signRoot(rootOf(2, [r2], { revoked: [r1.kid] }), [r1, r2]);
    const res = await put(v2);
    expect(await res.json()).toMatchObject({ version: 2, created: true });
    expect(await (await edge("/.well-known/fleetconf-root.json")).json()).toEqual(v2);
    expect(await (await edge("/.well-known/fleetconf-root.json?version=1")).json()).toEqual(v1);
  });

  it("refuses a v3 that lists the revoked r1 again, even signed by r2", async () => {
    const back = await signRoot(rootOf(3, [r2, r1]), [r2, r1]);
    const res = await put(back);
    expect(res.status).toBe(400);
    expect((await problemOf(res)).detail).toContain(`revoked kid ${r1.kid}`);
  });

  it("answers 404 problem+json for an unknown version and 400 for a bad one at the edge", async () => {
    const missing = await edge("/.well-known/fleetconf-root.json?version=99");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("Content-Type")).toBe("application/problem+json");
    expect((await edge("/.well-known/fleetconf-root.json?version=abc")).status).toBe(400);
  });
});
