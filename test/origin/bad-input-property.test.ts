/**
 * Property: whatever bytes are published — a serialised JSON value, a randomly mutated document,
 * or random bytes — the origin either accepts them (201, or 200 when identical to the live
 * version) and then serves back exactly those bytes from itself and through the real edge, or
 * refuses them with 4xx problem+json and no change to SQLite or KV. Acceptance must agree with an
 * independent oracle (test/unit/core/json-property-oracle.ts).
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256, toBase64 } from "../../core";
import { hostileBodyArb, oracle, validDocumentArb } from "../unit/core/json-property-oracle";
import { edgeGet, stateOf } from "./reliability-support";
import { call, freshNamespace } from "./support/origin";

const ns = freshNamespace("prop");
const key = `${ns}/fuzz/doc`;
const tried = { total: 0, accepted: 0, identical: 0, refused: 0 };

beforeAll(async () => {
  const res = await call("PUT", `/v1/namespaces/${ns}`, { json: { visibility: "public", maxAge: 60 } });
  expect(res.status).toBe(200);
});

afterAll(() => {
  console.log(JSON.stringify({ suite: "bad-input-property (origin)", ...tried }));
});

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

async function publishAndCheck(bytes: Uint8Array): Promise<void> {
  tried.total++;
  const verdict = oracle(bytes);
  const before = verdict.valid ? null : await stateOf(ns, true);
  const res = await call("PUT", `/v1/configs/${key}`, {
    body: bytes,
    headers: { "Content-Type": "application/json" },
  });
  if (res.status === 201 || res.status === 200) {
    if (!verdict.valid)
      throw new Error(`accepted bytes the oracle refuses (${verdict.why}): ${decode(bytes)}`);
    if (res.status === 201) tried.accepted++;
    else tried.identical++;
    const { version } = (await res.json()) as { version: number };
    const digest = `sha-256=:${toBase64(await sha256(bytes))}:`;
    for (const served of [
      await call("GET", `/v1/configs/${key}`),
      await edgeGet(`/v1/configs/${key}`),
      await edgeGet(`/v1/configs/${key}?version=${version}`),
    ]) {
      expect(served.status).toBe(200);
      expect(served.headers.get("Config-Version")).toBe(String(version));
      expect(served.headers.get("Content-Digest")).toBe(digest);
      expect(new Uint8Array(await served.arrayBuffer())).toEqual(bytes);
    }
    return;
  }
  tried.refused++;
  if (verdict.valid) throw new Error(`refused (${res.status}) bytes the oracle accepts: ${decode(bytes)}`);
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  expect(await res.json()).toMatchObject({ status: res.status, code: "invalid_json" });
  expect(await stateOf(ns, true)).toEqual(before);
}

describe("publishing arbitrary bytes", { timeout: 300_000 }, () => {
  it("accepts and serves back exactly every serialised JSON value", async () => {
    await fc.assert(fc.asyncProperty(validDocumentArb, publishAndCheck), { numRuns: 80 });
  });

  it("either serves mutated documents and random bytes back exactly or refuses them changing nothing", async () => {
    await fc.assert(fc.asyncProperty(hostileBodyArb, publishAndCheck), { numRuns: 240 });
  });
});
