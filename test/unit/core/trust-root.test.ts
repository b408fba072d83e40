/**
 * The trust root's rules (core/trust-root.ts): RFC 8785 canonical bytes, threshold signatures,
 * TUF's chain rule (N+1 signed by a threshold of N's root keys and of its own), revocation that
 * sticks, expiry, and limits on what a document may hold.
 */
import { describe, expect, it } from "vitest";
import { generateSigningJwk } from "../../../core/jws";
import {
  canonicalJson,
  isRootExpired,
  MAX_ROOT_BYTES,
  parseRootDocument,
  parseRootText,
  signRoot,
  snapshotKeysOf,
  verifyPinnedRoot,
  verifyRootSuccessor,
} from "../../../core/trust-root";
import { rootSigned } from "../../support/trust-root-fixture";

describe("canonical JSON (RFC 8785)", () => {
  it("sorts members by UTF-16 code units and drops whitespace", () => {
    expect(canonicalJson({ b: 1, a: [true, null, "x"], "€": 2, A: { z: 0, y: -1.5 } })).toBe(
      '{"A":{"y":-1.5,"z":0},"a":[true,null,"x"],"b":1,"€":2}',
    );
  });
  it("gives the same bytes whatever order the members were written in", () => {
    expect(canonicalJson({ x: 1, y: { q: 2, p: 3 } })).toBe(canonicalJson({ y: { p: 3, q: 2 }, x: 1 }));
  });
});

describe("root documents", async () => {
  const r1 = await generateSigningJwk("root");
  const r2 = await generateSigningJwk("root");
  const r3 = await generateSigningJwk("root");
  const s1 = await generateSigningJwk("snapshot");
  const s2 = await generateSigningJwk("snapshot");

  it("accepts a pinned root signed by a threshold of its own root keys", async () => {
    const doc = await signRoot(rootSigned(1, [r1], [s1]), [r1]);
    const parsed = parseRootDocument(JSON.parse(JSON.stringify(doc)));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect((await verifyPinnedRoot(parsed.value)).ok).toBe(true);
    expect(snapshotKeysOf(parsed.value.signed).keys.map((k) => k.kid)).toEqual([s1.kid]);
  });

  it("refuses a pinned root whose signed part was edited after signing", async () => {
    const doc = await signRoot(rootSigned(1, [r1], [s1]), [r1]);
    doc.signed.expires = "2100-01-01T00:00:00Z";
    const result = await verifyPinnedRoot(doc);
    expect(result).toMatchObject({ ok: false });
  });

  it("counts one signature per root kid: a duplicated signature does not reach a threshold of 2", async () => {
    const doc = await signRoot(rootSigned(1, [r1, r2], [s1], { threshold: 2 }), [r1]);
    doc.signatures.push({ ...(doc.signatures[0] as { kid: string; sig: string }) });
    expect(await verifyPinnedRoot(doc)).toMatchObject({ ok: false });
    const both = await signRoot(rootSigned(1, [r1, r2], [s1], { threshold: 2 }), [r1, r2]);
    expect((await verifyPinnedRoot(both)).ok).toBe(true);
  });

  it("never counts a snapshot key's signature towards the root threshold", async () => {
    const doc = await signRoot(rootSigned(1, [r1], [s1]), [{ ...s1 }]);
    expect(await verifyPinnedRoot(doc)).toMatchObject({ ok: false });
  });

  it("accepts version N+1 signed by N's root keys and its own (a root key rotation)", async () => {
    const v1 = await signRoot(rootSigned(1, [r1], [s1]), [r1]);
    const v2 = await signRoot(rootSigned(2, [r2], [s2], { revoked: [s1.kid] }), [r1, r2]);
    expect((await verifyRootSuccessor(v1.signed, v2)).ok).toBe(true);
    expect(snapshotKeysOf(v2.signed).keys.map((k) => k.kid)).toEqual([s2.kid]);
  });

  it("refuses N+1 signed only by its own new keys (the key swap of a compromised edge)", async () => {
    const v1 = await signRoot(rootSigned(1, [r1], [s1]), [r1]);
    const forged = await signRoot(rootSigned(2, [r3], [s2]), [r3]);
    const result = await verifyRootSuccessor(v1.signed, forged);
    expect(result).toMatchObject({ ok: false });
    if (!result.ok) expect(result.reason).toContain("from v1's root keys");
  });

  it("refuses N+1 signed by N's keys but not by its own (its new holders never agreed)", async () => {
    const v1 = await signRoot(rootSigned(1, [r1], [s1]), [r1]);
    const v2 = await signRoot(rootSigned(2, [r2], [s1]), [r1]);
    expect(await verifyRootSuccessor(v1.signed, v2)).toMatchObject({ ok: false });
  });

  it("refuses a skipped or repeated version", async () => {
    const v1 = await signRoot(rootSigned(1, [r1], [s1]), [r1]);
    const v3 = await signRoot(rootSigned(3, [r1], [s1]), [r1]);
    const again = await signRoot(rootSigned(1, [r1], [s2]), [r1]);
    expect(await verifyRootSuccessor(v1.signed, v3)).toMatchObject({ ok: false });
    expect(await verifyRootSuccessor(v1.signed, again)).toMatchObject({ ok: false });
  });

  it("keeps a revoked kid out for good: a later root cannot list it again", async () => {
    const v2 = await signRoot(rootSigned(2, [r1], [s2], { revoked: [s1.kid] }), [r1]);
    const v3 = await signRoot(rootSigned(3, [r1], [s1, s2]), [r1]);
    const result = await verifyRootSuccessor(v2.signed, v3, new Set([s1.kid]));
    expect(result).toMatchObject({ ok: false });
    expect(snapshotKeysOf(v3.signed, [s1.kid]).keys.map((k) => k.kid)).toEqual([s2.kid]);
  });

  it("refuses a document listing a kid both as a key and as revoked", async () => {
    const doc = await signRoot(rootSigned(1, [r1], [s1], { revoked: [s1.kid] }), [r1]);
    expect(parseRootDocument(doc)).toMatchObject({ ok: false });
  });

  it("refuses a threshold above the number of root keys, and bad expiry times", async () => {
    expect(
      parseRootDocument(await signRoot(rootSigned(1, [r1], [s1], { threshold: 2 }), [r1])),
    ).toMatchObject({ ok: false });
    expect(
      parseRootDocument(await signRoot(rootSigned(1, [r1], [s1], { expires: "tomorrow" }), [r1])),
    ).toMatchObject({ ok: false });
  });

  it("says when a root has expired", () => {
    const signed = rootSigned(1, [r1], [s1], { expires: "2026-01-01T00:00:00Z" });
    expect(isRootExpired(signed, Date.parse("2025-12-31T23:59:59Z"))).toBe(false);
    expect(isRootExpired(signed, Date.parse("2026-01-01T00:00:00Z"))).toBe(true);
  });

  it("refuses a document larger than MAX_ROOT_BYTES before parsing it", () => {
    expect(parseRootText(" ".repeat(MAX_ROOT_BYTES + 1))).toMatchObject({ ok: false });
  });
});
