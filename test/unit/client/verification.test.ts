/**
 * The SDK's acceptance rule against a local HTTP edge double serving really signed snapshots:
 * good snapshots are accepted; every kind of tampering is reported with its stable code and the
 * last good snapshot stays.
 */
import { describe, expect, it } from "vitest";
import { ConfigClientError, createConfigClient } from "../../../client";
import { sha256, toBase64 } from "../../../core/encoding";
import { useSdkHarness } from "./support/sdk-harness";
import { flipByte, newSigner, serveSnapshot, type TestServer, waitFor } from "./support/snapshot-server";

const KEY = "payments/prod/flags";
const harness = useSdkHarness(KEY);
const client = harness.client;

async function firstError(errors: ConfigClientError[]): Promise<ConfigClientError> {
  await waitFor(() => errors.length > 0, 5000, "an error");
  return errors[0] as ConfigClientError;
}

describe("accepting snapshots", () => {
  it("accepts a correctly signed snapshot and exposes its value, version and ETag", async () => {
    const snap = await harness.signer.sign(KEY, 3, { rps: 100 }, Date.UTC(2026, 1, 2, 3, 4, 5));
    harness.server.handle(serveSnapshot(snap));
    const { c } = client();
    const ready = await c.ready();
    expect(ready).toMatchObject({
      key: KEY,
      version: 3,
      etag: snap.meta.etag,
      value: { rps: 100 },
      stale: false,
    });
    expect(ready.publishedAt).toBe(Date.UTC(2026, 1, 2, 3, 4, 5));
    expect(new TextDecoder().decode(ready.bytes)).toBe('{"rps":100}');
    expect(c.current()).toBe(ready);
  });

  it("sends Config-Client-Id, Accept and the read token as a Bearer credential", async () => {
    harness.server.handle(serveSnapshot(await harness.signer.sign(KEY, 1, {})));
    const { c } = client({ clientId: "host-1.example:42", token: "tok.en.value" });
    await c.ready();
    const request = harness.server.requests[0];
    expect(request?.url).toBe(`/v1/configs/${KEY}`);
    expect(request?.headers["config-client-id"]).toBe("host-1.example:42");
    expect(request?.headers.authorization).toBe("Bearer tok.en.value");
    expect(request?.headers.accept).toBe("application/json");
  });

  it("calls a token function before every request so tokens can be refreshed", async () => {
    harness.server.handle(serveSnapshot(await harness.signer.sign(KEY, 1, {})));
    let calls = 0;
    const { c } = client({ token: async () => `t${++calls}` });
    await c.ready();
    await waitFor(() => harness.server.requests.length >= 2);
    expect(harness.server.requests[0]?.headers.authorization).toBe("Bearer t1");
    expect(harness.server.requests[1]?.headers.authorization).toBe("Bearer t2");
  });

  it("polls with If-None-Match and keeps the same snapshot on 304 without a change event", async () => {
    const snap = await harness.signer.sign(KEY, 1, { a: 1 });
    harness.server.handle(serveSnapshot(snap));
    const { c, errors } = client();
    const changes: number[] = [];
    c.onChange((s) => changes.push(s.version));
    const first = await c.ready();
    await waitFor(() => harness.server.requests.length >= 4);
    expect(harness.server.requests.slice(1).every((r) => r.headers["if-none-match"] === snap.meta.etag)).toBe(
      true,
    );
    expect(c.current()).toBe(first);
    expect(changes).toEqual([1]);
    expect(errors).toEqual([]);
  });

  it("emits onChange once per new version with the previous snapshot", async () => {
    harness.server.handle(serveSnapshot(await harness.signer.sign(KEY, 1, { a: 1 })));
    const { c } = client();
    const seen: Array<[number, number | undefined]> = [];
    c.onChange((s, prev) => seen.push([s.version, prev?.version]));
    await c.ready();
    harness.server.handle(serveSnapshot(await harness.signer.sign(KEY, 2, { a: 2 })));
    await waitFor(() => seen.length >= 2);
    expect(seen).toEqual([
      [1, undefined],
      [2, 1],
    ]);
    expect(c.current()?.value).toEqual({ a: 2 });
  });

  it("runs validate on the value and refuses a snapshot it throws on", async () => {
    harness.server.handle(serveSnapshot(await harness.signer.sign(KEY, 1, { rps: "lots" })));
    const { c, errors } = client({
      validate: (v) => {
        if (typeof (v as { rps?: unknown }).rps !== "number") throw new Error("rps must be a number");
        return v;
      },
    });
    await expect(c.ready()).rejects.toMatchObject({ code: "invalid_config" });
    expect((await firstError(errors)).message).toContain("rps must be a number");
    expect(c.current()).toBeUndefined();
  });
});

describe("refusing tampered or misdirected snapshots", () => {
  async function expectRefusedAfterGood(
    tamper: () => Promise<Parameters<TestServer["handle"]>[0]>,
    code: string,
  ) {
    const good = await harness.signer.sign(KEY, 5, { mode: "good" });
    harness.server.handle(serveSnapshot(good));
    const { c, errors } = client();
    const accepted = await c.ready();
    harness.server.handle(await tamper());
    const error = await firstError(errors);
    expect(error).toBeInstanceOf(ConfigClientError);
    expect(error.code).toBe(code);
    expect(c.current()).toBe(accepted);
  }

  it("refuses a body with one flipped byte (digest_mismatch) and keeps the last good snapshot", async () => {
    await expectRefusedAfterGood(async () => {
      const next = await harness.signer.sign(KEY, 6, { mode: "next" });
      return serveSnapshot(next, { body: flipByte(next.body, 3) });
    }, "digest_mismatch");
  });

  it("refuses a flipped byte even when the digest was recomputed (bad_signature)", async () => {
    await expectRefusedAfterGood(async () => {
      const next = await harness.signer.sign(KEY, 6, { mode: "next" });
      const body = flipByte(next.body, 3);
      const digest = `sha-256=:${toBase64(await sha256(body))}:`;
      return serveSnapshot(next, { body, headers: { "Content-Digest": digest } });
    }, "bad_signature");
  });

  it("refuses a Content-Digest that does not match the body (digest_mismatch)", async () => {
    await expectRefusedAfterGood(
      async () =>
        serveSnapshot(await harness.signer.sign(KEY, 6, {}), {
          headers: { "Content-Digest": `sha-256=:${toBase64(new Uint8Array(32))}:` },
        }),
      "digest_mismatch",
    );
  });

  it("refuses a validly signed snapshot of another key (key_mismatch)", async () => {
    await expectRefusedAfterGood(
      async () => serveSnapshot(await harness.signer.sign("payments/prod/other", 6, {})),
      "key_mismatch",
    );
  });

  it("refuses an older validly signed version (version_rollback)", async () => {
    await expectRefusedAfterGood(
      async () => serveSnapshot(await harness.signer.sign(KEY, 4, { mode: "old" })),
      "version_rollback",
    );
  });

  it("refuses a Config-Version that differs from the signed version (version_mismatch)", async () => {
    await expectRefusedAfterGood(
      async () =>
        serveSnapshot(await harness.signer.sign(KEY, 7, {}), { headers: { "Config-Version": "8" } }),
      "version_mismatch",
    );
  });

  it("refuses the same version with different bytes (version_conflict)", async () => {
    await expectRefusedAfterGood(
      async () => serveSnapshot(await harness.signer.sign(KEY, 5, { mode: "evil" })),
      "version_conflict",
    );
  });

  it("refuses a signature by a key absent from the pinned JWKS (unknown_kid)", async () => {
    const other = await newSigner();
    await expectRefusedAfterGood(async () => serveSnapshot(await other.sign(KEY, 6, {})), "unknown_kid");
  });

  it("refuses a response without Config-Signature (malformed_response)", async () => {
    await expectRefusedAfterGood(
      async () => serveSnapshot(await harness.signer.sign(KEY, 6, {}), { omit: ["Config-Signature"] }),
      "malformed_response",
    );
  });

  it("refuses a signature whose header says alg none (bad_signature)", async () => {
    await expectRefusedAfterGood(async () => {
      const snap = await harness.signer.sign(KEY, 6, {});
      const [, , sig] = snap.meta.signature.split(".");
      const header = Buffer.from(
        JSON.stringify({
          alg: "none",
          kid: harness.signer.jwk.kid,
          b64: false,
          crit: ["b64"],
          key: KEY,
          ver: 6,
          iat: 1,
        }),
      ).toString("base64url");
      return serveSnapshot(snap, { headers: { "Config-Signature": `${header}..${sig}` } });
    }, "bad_signature");
  });

  it("never exposes a refused snapshot before any good one (ready rejects with the code)", async () => {
    const snap = await harness.signer.sign(KEY, 1, { a: 1 });
    harness.server.handle(serveSnapshot(snap, { body: flipByte(snap.body, 2) }));
    const { c } = client();
    await expect(c.ready()).rejects.toMatchObject({ code: "digest_mismatch" });
    expect(c.current()).toBeUndefined();
  });
});

describe("constructor checks", () => {
  it("throws on an invalid key, a non-http edge, a bad client id or a missing trust anchor", () => {
    const jwks = { keys: [] };
    expect(() => createConfigClient({ edge: "http://x", key: "../etc", jwks })).toThrow(/invalid key/);
    expect(() => createConfigClient({ edge: "file:///x", key: KEY, jwks })).toThrow(/edge/);
    expect(() => createConfigClient({ edge: "http://x", key: KEY, jwks, clientId: "a b" })).toThrow(
      /clientId/,
    );
    expect(() => createConfigClient({ edge: "http://x", key: KEY })).toThrow(/pin what to trust/);
    expect(() => createConfigClient({ edge: "http://x", key: KEY, jwks })).toThrow(/no keys/);
    const pinned = {
      keys: [{ kty: "OKP" as const, crv: "Ed25519" as const, x: "A".repeat(43), kid: "s-1" }],
    };
    expect(() =>
      createConfigClient({ edge: "http://x", key: KEY, jwks: pinned, jwksUrl: "http://x/j" }),
    ).toThrow(/jwksUrl goes with keyThumbprints/);
    expect(() =>
      createConfigClient({ edge: "http://x", key: KEY, jwks: pinned, keyThumbprints: ["A".repeat(43)] }),
    ).toThrow(/only one of/);
  });
});
