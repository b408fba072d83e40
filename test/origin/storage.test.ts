import { describe, expect, it } from "vitest";
import { decodeSnapshot, kvKeys, sha256, toBase64 } from "../../core";
import { BODY_CHUNK_BYTES } from "../../origin/store/namespace-migrations";
import { call, freshNamespace, originEnv, storeOf } from "./support/origin";

/** A valid JSON document of about `bytes` bytes with varied content. */
function bigDocument(bytes: number): Uint8Array {
  const items: string[] = [];
  let size = 2;
  for (let i = 0; size < bytes; i++) {
    const item = JSON.stringify({ i, name: `item-${i}-${"x".repeat(i % 50)}` });
    items.push(item);
    size += item.length + 1;
  }
  return new TextEncoder().encode(`[${items.join(",")}]`);
}

describe("bodies larger than one SQLite row", () => {
  it("stores a 3 MiB config in chunks and serves it back byte for byte", async () => {
    const ns = freshNamespace();
    const key = `${ns}/big`;
    const body = bigDocument(3 * 1024 * 1024 + 12345);
    expect(body.length).toBeGreaterThan(3 * BODY_CHUNK_BYTES);
    // Through the store directly: the HTTP route caps bodies at MAX_CONFIG_BYTES (1 MiB here).
    const result = await storeOf(ns).publish({
      namespace: ns,
      key,
      body,
      ifMatch: null,
      ifNoneMatch: null,
      actor: "tester",
      message: null,
    });
    expect(result).toMatchObject({ ok: true, value: { created: true, distribution: "complete" } });

    const res = await call("GET", `/v1/configs/${key}`);
    const served = new Uint8Array(await res.arrayBuffer());
    expect(served.length).toBe(body.length);
    expect(toBase64(await sha256(served))).toBe(toBase64(await sha256(body)));

    const raw = await originEnv.CONFIGS.get(kvKeys.snapshot(key, 1), "arrayBuffer");
    const snapshot = decodeSnapshot(raw as ArrayBuffer);
    expect(snapshot.meta.size).toBe(body.length);
    expect(toBase64(await sha256(snapshot.body))).toBe(toBase64(await sha256(body)));
  });
});
