import { describe, expect, it } from "vitest";
import {
  buildSnapshot,
  computeEtag,
  decodeSnapshot,
  encodeSnapshot,
  fromBase64,
  generateSigningJwk,
  importSigningKey,
  publicPart,
  sha256,
  utf8Bytes,
  verifySnapshot,
} from "../../../core";

async function snapshotOf(key: string, version: number, text: string) {
  const jwk = await generateSigningJwk("snapshot");
  const snapshot = await buildSnapshot({
    key,
    version,
    body: utf8Bytes(text),
    publishedAt: 1_767_225_600_123,
    signingKey: await importSigningKey(jwk),
    kid: jwk.kid,
  });
  return { jwk, snapshot };
}

describe("buildSnapshot", () => {
  it("computes an RFC 9530 Content-Digest of the exact body", async () => {
    const { snapshot } = await snapshotOf("a/b", 1, '{"x": 1}');
    const match = /^sha-256=:([A-Za-z0-9+/=]+):$/.exec(snapshot.meta.digest);
    expect(match?.[1]).toBeDefined();
    expect(fromBase64(match?.[1] ?? "")).toEqual(await sha256(utf8Bytes('{"x": 1}')));
  });

  it("signs the key, version and publish time in seconds", async () => {
    const { jwk, snapshot } = await snapshotOf("a/b", 4, "{}");
    const result = await verifySnapshot(snapshot.meta.signature, snapshot.body, { keys: [publicPart(jwk)] });
    expect(result).toMatchObject({ ok: true, header: { key: "a/b", ver: 4, iat: 1_767_225_600 } });
  });

  it("gives strong quoted ETags unique per key and version, even for equal bodies", async () => {
    const hash = await sha256(utf8Bytes("{}"));
    const tags = new Set([
      await computeEtag("a/b", 1, hash),
      await computeEtag("a/b", 2, hash),
      await computeEtag("a/c", 1, hash),
    ]);
    expect(tags.size).toBe(3);
    for (const tag of tags) expect(tag).toMatch(/^"[0-9]+-[A-Za-z0-9_-]{22}"$/);
  });
});

describe("snapshot records", () => {
  it("round-trip through the KV framing byte for byte", async () => {
    const { snapshot } = await snapshotOf("a/b/c", 9, '{"k":"\\n line\\nbreaks"}\n');
    const decoded = decodeSnapshot(encodeSnapshot(snapshot));
    expect(decoded.meta).toEqual(snapshot.meta);
    expect(decoded.body).toEqual(snapshot.body);
  });

  it("refuse a record that is not a snapshot or is truncated", async () => {
    const { snapshot } = await snapshotOf("a/b", 1, "[1,2,3]");
    const record = encodeSnapshot(snapshot);
    expect(() => decodeSnapshot(utf8Bytes("hello"))).toThrow(/not a fleetconf snapshot/);
    expect(() => decodeSnapshot(record.subarray(0, record.length - 1))).toThrow(/size mismatch/);
  });
});
