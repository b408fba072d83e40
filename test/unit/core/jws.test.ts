import { describe, expect, it } from "vitest";
import {
  concatBytes,
  fromBase64Url,
  generateSigningJwk,
  importSigningKey,
  importVerifyKey,
  type Jwks,
  type PrivateJwk,
  parseSignatureHeader,
  publicPart,
  signSnapshot,
  toBase64Url,
  utf8Bytes,
  verifySnapshot,
} from "../../../core";
import vector from "../../vectors/rfc8037-ed25519.json";

const vectorJwk: PrivateJwk = {
  ...(vector.jwk as { kty: "OKP"; crv: "Ed25519"; d: string; x: string }),
  kid: "rfc8037",
};

describe("Ed25519 against RFC 8037 A.4", () => {
  it("signs the published input to the published signature", async () => {
    const key = await importSigningKey(vectorJwk);
    const input = utf8Bytes(`${vector.protected}.${vector.payload}`);
    const signature = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key, input));
    expect(toBase64Url(signature)).toBe(vector.signature);
  });

  it("verifies the published signature", async () => {
    const key = await importVerifyKey(publicPart(vectorJwk));
    const input = utf8Bytes(`${vector.protected}.${vector.payload}`);
    expect(await crypto.subtle.verify({ name: "Ed25519" }, key, fromBase64Url(vector.signature), input)).toBe(
      true,
    );
  });
});

describe("detached unencoded JWS (RFC 7797)", () => {
  const body = utf8Bytes('{"flags":{"beta":true}}');

  async function fixture() {
    const jwk = await generateSigningJwk("snapshot");
    const jwks: Jwks = { keys: [publicPart(jwk)] };
    const jws = await signSnapshot(
      await importSigningKey(jwk),
      { kid: jwk.kid, key: "a/b", ver: 3, iat: 1700000000 },
      body,
    );
    return { jwk, jwks, jws };
  }

  it("produces <protected>..<signature> with the contract's header", async () => {
    const { jws, jwk } = await fixture();
    expect(jws).toMatch(/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/);
    const parsed = parseSignatureHeader(jws);
    expect(parsed).toEqual({
      ok: true,
      header: { alg: "EdDSA", kid: jwk.kid, b64: false, crit: ["b64"], key: "a/b", ver: 3, iat: 1700000000 },
    });
  });

  it("signs ASCII(protected) || '.' || body, verifiable by plain Ed25519", async () => {
    const { jws, jwk } = await fixture();
    const [protectedB64, , sig] = jws.split(".") as [string, string, string];
    const input = concatBytes(utf8Bytes(`${protectedB64}.`), body);
    const key = await importVerifyKey(publicPart(jwk));
    expect(await crypto.subtle.verify({ name: "Ed25519" }, key, fromBase64Url(sig), input)).toBe(true);
  });

  it("verifies a round trip", async () => {
    const { jws, jwks } = await fixture();
    expect((await verifySnapshot(jws, body, jwks)).ok).toBe(true);
  });

  it("rejects a flipped body byte with bad_signature", async () => {
    const { jws, jwks } = await fixture();
    const tampered = body.slice();
    tampered[3] = (tampered[3] ?? 0) ^ 1;
    expect(await verifySnapshot(jws, tampered, jwks)).toMatchObject({ ok: false, code: "bad_signature" });
  });

  it("rejects a key it does not know with unknown_kid", async () => {
    const { jws } = await fixture();
    const other = await generateSigningJwk("snapshot");
    expect(await verifySnapshot(jws, body, { keys: [publicPart(other)] })).toMatchObject({
      ok: false,
      code: "unknown_kid",
    });
  });

  it("never accepts a read-token key as a snapshot key", async () => {
    const tokenKey = await generateSigningJwk("read-token");
    const jws = await signSnapshot(
      await importSigningKey(tokenKey),
      { kid: tokenKey.kid, key: "a/b", ver: 1, iat: 1 },
      body,
    );
    expect(await verifySnapshot(jws, body, { keys: [publicPart(tokenKey)] })).toMatchObject({
      ok: false,
      code: "unknown_kid",
    });
  });

  it("rejects a header altered after signing (version replay)", async () => {
    const { jws, jwks } = await fixture();
    const [protectedB64, , sig] = jws.split(".") as [string, string, string];
    const header = JSON.parse(new TextDecoder().decode(fromBase64Url(protectedB64)));
    const forged = `${toBase64Url(utf8Bytes(JSON.stringify({ ...header, ver: 9 })))}..${sig}`;
    expect(await verifySnapshot(forged, body, jwks)).toMatchObject({ ok: false, code: "bad_signature" });
  });

  it.each([
    ["an attached payload", "a.b.c"],
    ["two parts", "a..b.c"],
    ["garbage", "not a jws"],
  ])("rejects %s as malformed", async (_name, jws) => {
    const { jwks } = await fixture();
    expect(await verifySnapshot(jws, body, jwks)).toMatchObject({ ok: false });
  });

  it("rejects alg none and b64=true headers as unsupported", async () => {
    const none = `${toBase64Url(utf8Bytes(JSON.stringify({ alg: "none", kid: "x", b64: false, crit: ["b64"], key: "a/b", ver: 1, iat: 1 })))}..AA`;
    expect(parseSignatureHeader(none)).toMatchObject({ ok: false, code: "unsupported" });
    const encoded = `${toBase64Url(utf8Bytes(JSON.stringify({ alg: "EdDSA", kid: "x", key: "a/b", ver: 1, iat: 1 })))}..AA`;
    expect(parseSignatureHeader(encoded)).toMatchObject({ ok: false, code: "unsupported" });
  });
});
