/** `Config-Freshness` proofs (core/freshness.ts): signed by a snapshot key, shape checked. */
import { describe, expect, it } from "vitest";
import { sameSha256Digest, signFreshness, verifyFreshness } from "../../../core/freshness";
import { generateSigningJwk, importSigningKey, publicPart } from "../../../core/jws";

describe("freshness proofs", async () => {
  const s1 = await generateSigningJwk("snapshot");
  const other = await generateSigningJwk("snapshot");
  const token = await generateSigningJwk("read-token");
  const jwks = { keys: [publicPart(s1), publicPart(token)] };
  const payload = { key: "a/b", ver: 3, digest: `sha-256=:${"A".repeat(43)}=:`, iat: 100, exp: 200 };

  it("verifies a proof signed by a trusted snapshot key and returns its payload", async () => {
    const jws = await signFreshness(await importSigningKey(s1), s1.kid, payload);
    expect(await verifyFreshness(jws, jwks)).toEqual({ ok: true, kid: s1.kid, payload });
  });

  it("refuses a proof by an untrusted key, even one reusing a trusted kid", async () => {
    const jws = await signFreshness(await importSigningKey(other), s1.kid, payload);
    expect(await verifyFreshness(jws, jwks)).toMatchObject({ ok: false, code: "bad_signature" });
    const unknown = await signFreshness(await importSigningKey(other), other.kid, payload);
    expect(await verifyFreshness(unknown, jwks)).toMatchObject({ ok: false, code: "unknown_kid" });
  });

  it("refuses a proof signed with a read-token key", async () => {
    const jws = await signFreshness(await importSigningKey(token), token.kid, payload);
    expect(await verifyFreshness(jws, jwks)).toMatchObject({ ok: false, code: "unknown_kid" });
  });

  it("refuses a payload edited after signing", async () => {
    const jws = await signFreshness(await importSigningKey(s1), s1.kid, payload);
    const [h, , s] = jws.split(".");
    const edited = Buffer.from(JSON.stringify({ ...payload, exp: 9_999_999_999 })).toString("base64url");
    expect(await verifyFreshness(`${h}.${edited}.${s}`, jwks)).toMatchObject({
      ok: false,
      code: "bad_signature",
    });
  });

  it("refuses malformed or oversized proofs", async () => {
    expect(await verifyFreshness("a.b", jwks)).toMatchObject({ ok: false, code: "malformed" });
    expect(await verifyFreshness("x".repeat(5000), jwks)).toMatchObject({ ok: false, code: "malformed" });
    const bad = await signFreshness(await importSigningKey(s1), s1.kid, { ...payload, exp: 50 });
    expect(await verifyFreshness(bad, jwks)).toMatchObject({ ok: false, code: "malformed" });
  });

  it("compares digests as bytes", () => {
    const b64 = Buffer.alloc(32, 7).toString("base64");
    expect(sameSha256Digest(`sha-256=:${b64}:`, `sha-256=:${b64}:`)).toBe(true);
    expect(sameSha256Digest(`sha-256=:${b64}:`, `sha-256=:${Buffer.alloc(32, 8).toString("base64")}:`)).toBe(
      false,
    );
  });
});
