/**
 * Property tests of the snapshot signature (RFC 7797 detached JWS): whatever the body, key and
 * version, the signature verifies against the JWKS, and any change a CDN, proxy or attacker could
 * make fails it: one byte of the body, the key or version it names (substitution, replay under
 * another version), the signature bytes, or a JWKS without the signing key or with it marked as a
 * read-token key.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  generateSigningJwk,
  importSigningKey,
  type Jwks,
  type PrivateJwk,
  publicPart,
  signSnapshot,
  toBase64Url,
  utf8Bytes,
  verifySnapshot,
} from "../../../core";

let signer: PrivateJwk;
let signingKey: CryptoKey;
let jwks: Jwks;
let tried = 0;

beforeAll(async () => {
  signer = await generateSigningJwk("snapshot");
  signingKey = await importSigningKey(signer);
  jwks = { keys: [publicPart(signer)] };
});

afterAll(() => {
  console.log(JSON.stringify({ suite: "jws-property (unit)", tried }));
});

const keyArb = fc.constantFrom("payments/prod/flags", "a/b", "shop/eu/cart/limits");
const bodyArb = fc.uint8Array({ minLength: 1, maxLength: 512 });

async function signed(key: string, ver: number, body: Uint8Array): Promise<string> {
  return signSnapshot(signingKey, { kid: signer.kid, key, ver, iat: 1_700_000_000 }, body);
}

/** Re-encodes the protected header with `patch` applied, keeping the original signature. */
function withHeader(jws: string, patch: Record<string, unknown>): string {
  const [protectedB64 = "", , signature = ""] = jws.split(".");
  const header = JSON.parse(atob(protectedB64.replaceAll("-", "+").replaceAll("_", "/"))) as Record<
    string,
    unknown
  >;
  return `${toBase64Url(utf8Bytes(JSON.stringify({ ...header, ...patch })))}..${signature}`;
}

describe("snapshot signatures", { timeout: 120_000 }, () => {
  it("verify for any body, key and version, naming that key and version", async () => {
    await fc.assert(
      fc.asyncProperty(keyArb, fc.integer({ min: 1, max: 1e6 }), bodyArb, async (key, ver, body) => {
        tried++;
        const check = await verifySnapshot(await signed(key, ver, body), body, jwks);
        expect(check).toMatchObject({ ok: true, header: { key, ver, kid: signer.kid } });
      }),
      { numRuns: 200 },
    );
  });

  it("fail when any one byte of the body changes", async () => {
    await fc.assert(
      fc.asyncProperty(bodyArb, fc.nat(), fc.integer({ min: 1, max: 255 }), async (body, at, xor) => {
        tried++;
        const jws = await signed("a/b", 1, body);
        const tampered = Uint8Array.from(body);
        const i = at % tampered.length;
        tampered[i] = (tampered[i] as number) ^ xor;
        expect(await verifySnapshot(jws, tampered, jwks)).toMatchObject({ ok: false, code: "bad_signature" });
      }),
      { numRuns: 200 },
    );
  });

  it("fail when bytes are appended or cut", async () => {
    await fc.assert(
      fc.asyncProperty(bodyArb, fc.uint8Array({ minLength: 1, maxLength: 8 }), async (body, extra) => {
        tried++;
        const jws = await signed("a/b", 1, body);
        const longer = Uint8Array.from([...body, ...extra]);
        expect((await verifySnapshot(jws, longer, jwks)).ok).toBe(false);
        expect((await verifySnapshot(jws, body.subarray(0, body.length - 1), jwks)).ok).toBe(false);
      }),
      { numRuns: 100 },
    );
  });

  it("fail when the header is edited to name another key or version (substitution, replay)", async () => {
    await fc.assert(
      fc.asyncProperty(
        bodyArb,
        fc.oneof(
          fc.record({ key: fc.constantFrom("a/c", "b/b", "a/b/c") }),
          fc.record({ ver: fc.integer({ min: 2, max: 1e6 }) }),
          fc.record({ iat: fc.integer({ min: 0, max: 1_699_999_999 }) }),
        ),
        async (body, patch) => {
          tried++;
          const jws = withHeader(await signed("a/b", 1, body), patch);
          expect(await verifySnapshot(jws, body, jwks)).toMatchObject({ ok: false, code: "bad_signature" });
        },
      ),
      { numRuns: 150 },
    );
  });

  it("fail when a signature byte changes", async () => {
    await fc.assert(
      fc.asyncProperty(bodyArb, fc.nat(), async (body, at) => {
        tried++;
        const jws = await signed("a/b", 1, body);
        const [head = "", , signature = ""] = jws.split(".");
        // Not the last character: its low bits are base64 padding, which decoders ignore.
        const i = at % (signature.length - 1);
        const swapped = signature[i] === "A" ? "B" : "A";
        const forged = `${head}..${signature.slice(0, i)}${swapped}${signature.slice(i + 1)}`;
        expect((await verifySnapshot(forged, body, jwks)).ok).toBe(false);
      }),
      { numRuns: 150 },
    );
  });

  it("fail against a JWKS that lacks the key or lists it as a read-token key", async () => {
    const body = utf8Bytes('{"a":1}');
    const jws = await signed("a/b", 1, body);
    const stranger = await generateSigningJwk("snapshot");
    tried += 3;
    expect(await verifySnapshot(jws, body, { keys: [publicPart(stranger)] })).toMatchObject({
      ok: false,
      code: "unknown_kid",
    });
    expect(
      await verifySnapshot(jws, body, { keys: [{ ...publicPart(signer), purpose: "read-token" }] }),
    ).toMatchObject({ ok: false, code: "unknown_kid" });
    // The right kid with another key's material: the signature does not verify.
    expect(
      await verifySnapshot(jws, body, { keys: [{ ...publicPart(stranger), kid: signer.kid }] }),
    ).toMatchObject({ ok: false, code: "bad_signature" });
  });

  it("refuse a header with another algorithm or without b64=false in crit", async () => {
    const body = utf8Bytes("{}");
    const jws = await signed("a/b", 1, body);
    for (const patch of [
      { alg: "none" },
      { alg: "HS256" },
      { b64: true },
      { crit: [] },
      { crit: ["b64", "exp"] },
    ]) {
      tried++;
      expect((await verifySnapshot(withHeader(jws, patch), body, jwks)).ok).toBe(false);
    }
  });
});
