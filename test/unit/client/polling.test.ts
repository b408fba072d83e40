/**
 * How and when the SDK polls: status codes become stable error codes (with the problem+json
 * detail), Retry-After and max-age slow it down, failures back off with full jitter, and a
 * JWKS from a URL is fetched once and refetched only for an unknown kid, rate-limited.
 */
import { describe, expect, it, vi } from "vitest";
import { freshnessSeconds, retryAfterMs, sha256FromContentDigest } from "../../../client/headers";
import {
  backoffCeiling,
  delayAfterFailure,
  delayAfterSuccess,
  MAX_RETRY_AFTER_MS,
} from "../../../client/schedule";
import { useSdkHarness } from "./support/sdk-harness";
import {
  newSigner,
  problem,
  rejection,
  type Signer,
  serveSnapshot,
  waitFor,
} from "./support/snapshot-server";

const KEY = "shop/prod/limits";
const harness = useSdkHarness(KEY);
const client = harness.client;

describe("status codes", () => {
  it.each([
    [404, "not_found"],
    [401, "unauthorized"],
    [403, "forbidden"],
    [429, "rate_limited"],
    [500, "http_error"],
    [502, "http_error"],
  ])("maps %i to %s and carries the problem detail", async (status, code) => {
    harness.server.handle(problem(status, `detail for ${status}`));
    const { c } = client();
    const error = await rejection(c.ready());
    expect(error).toMatchObject({ code, status, detail: `detail for ${status}` });
  });

  it("reports network_error when nothing listens on the edge's port", async () => {
    // Port 9 (discard) is outside every test range and closed on 127.0.0.1.
    const { c } = client({ edge: "http://127.0.0.1:9" });
    await expect(c.ready()).rejects.toMatchObject({ code: "network_error" });
  });

  it("reports network_error when the edge does not answer within requestTimeoutMs", async () => {
    harness.server.handle(() => undefined); // never answers
    const { c } = client({ requestTimeoutMs: 100 });
    const error = await rejection(c.ready());
    expect(error).toMatchObject({ code: "network_error" });
    expect(error.message).toContain("timed out");
  });

  it("refuses a body larger than any config (25 MiB) while it streams in", async () => {
    harness.server.handle((_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      for (let i = 0; i < 26; i++) res.write(chunk);
      res.end();
    });
    const { c } = client();
    const error = await rejection(c.ready());
    expect(error).toMatchObject({ code: "malformed_response" });
    expect(error.message).toContain("larger than");
  });

  it("keeps polling after a failure and recovers once the edge answers", async () => {
    harness.server.handle(problem(503, "down"));
    const { c } = client({ maxBackoffMs: 40 });
    await expect(c.ready()).rejects.toMatchObject({ code: "http_error" });
    harness.server.handle(serveSnapshot(await harness.signer.sign(KEY, 2, { ok: true })));
    // A retry already in flight when the handler switched may still fail; what matters is that
    // polling goes on and the next good answer is taken.
    await vi.waitFor(() => expect(c.current()?.version).toBe(2), { timeout: 5000 });
    await expect(c.ready()).resolves.toMatchObject({ version: 2 });
  });

  it("rejects ready() with closed when closed before any snapshot", async () => {
    harness.server.handle(() => undefined);
    const { c } = client();
    const pending = c.ready();
    await c.close();
    await expect(pending).rejects.toMatchObject({ code: "closed" });
    await expect(c.ready()).rejects.toMatchObject({ code: "closed" });
  });

  it("stops polling after close()", async () => {
    harness.server.handle(serveSnapshot(await harness.signer.sign(KEY, 1, {})));
    const { c } = client();
    await c.ready();
    await c.close();
    const count = harness.server.requests.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(harness.server.requests.length).toBe(count);
  });
});

describe("pacing", () => {
  it("waits at least Retry-After seconds after a 503 that carries it", async () => {
    harness.server.handle(problem(503, "busy", { "Retry-After": "1" }));
    const { c } = client();
    await waitFor(() => harness.server.requests.length >= 2, 4000);
    const [first, second] = harness.server.requests;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(990);
    await c.close();
  });

  it("never polls faster than the response's max-age even with a shorter interval", async () => {
    harness.server.handle(
      serveSnapshot(await harness.signer.sign(KEY, 1, {}), {
        cacheControl: "public, max-age=1, stale-while-revalidate=30",
      }),
    );
    // Interval pacing only: a long-polling client asks for a wait right after the first fetch.
    const { c } = client({ intervalMs: 10, longPoll: false });
    await c.ready();
    await waitFor(() => harness.server.requests.length >= 2, 4000);
    const [first, second] = harness.server.requests;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(990);
  });

  it("polls at intervalMs when max-age is shorter", async () => {
    harness.server.handle(
      serveSnapshot(await harness.signer.sign(KEY, 1, {}), { cacheControl: "private, max-age=0" }),
    );
    const { c } = client({ intervalMs: 300, longPoll: false });
    await c.ready();
    await waitFor(() => harness.server.requests.length >= 2, 4000);
    const [first, second] = harness.server.requests;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(290);
  });
});

describe("schedule policy", () => {
  const policy = (random: number) => ({ intervalMs: 1000, maxBackoffMs: 60_000, random: () => random });

  it("after success waits max(interval, max-age) plus at most 10 % jitter", () => {
    expect(delayAfterSuccess(policy(0), null)).toBe(1000);
    expect(delayAfterSuccess(policy(0), 5)).toBe(5000);
    expect(delayAfterSuccess(policy(0.999), 5)).toBeLessThanOrEqual(5500);
    expect(delayAfterSuccess({ ...policy(0), intervalMs: 30_000 }, 5)).toBe(30_000);
  });

  it("doubles the backoff window per failure up to the cap", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 50].map((n) => backoffCeiling(policy(0), n))).toEqual([
      1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000,
    ]);
  });

  it("draws failure delays uniformly inside [0, ceiling) (full jitter)", () => {
    for (const failures of [1, 3, 10]) {
      const ceiling = backoffCeiling(policy(0), failures);
      expect(delayAfterFailure(policy(0), failures, null)).toBe(0);
      expect(delayAfterFailure(policy(0.5), failures, null)).toBe(ceiling / 2);
      expect(delayAfterFailure(policy(0.999999), failures, null)).toBeLessThan(ceiling);
    }
  });

  it("never retries sooner than Retry-After, and caps Retry-After at one hour", () => {
    expect(delayAfterFailure(policy(0), 1, 7000)).toBe(7000);
    expect(delayAfterFailure(policy(0.999), 1, 7000)).toBeLessThan(10_500);
    expect(delayAfterFailure(policy(0.999), 7, 1000)).toBeGreaterThan(1000);
    expect(delayAfterFailure(policy(0), 1, 10 * 86_400_000)).toBe(MAX_RETRY_AFTER_MS);
  });

  it("parses Retry-After as seconds or an HTTP-date (RFC 9110 §10.2.3)", () => {
    const now = Date.UTC(2026, 0, 1, 0, 0, 0);
    expect(retryAfterMs("120", now)).toBe(120_000);
    expect(retryAfterMs("Thu, 01 Jan 2026 00:00:30 GMT", now)).toBe(30_000);
    expect(retryAfterMs("Wed, 31 Dec 2025 00:00:00 GMT", now)).toBe(0);
    expect(retryAfterMs("soon", now)).toBeNull();
    expect(retryAfterMs(null, now)).toBeNull();
  });

  it("reads max-age, treats no-cache/no-store as 0 and ignores junk", () => {
    expect(freshnessSeconds("public, max-age=5, stale-while-revalidate=30")).toBe(5);
    expect(freshnessSeconds('max-age="7"')).toBe(7);
    expect(freshnessSeconds("no-cache, max-age=5")).toBe(0);
    expect(freshnessSeconds("max-age=-1")).toBeNull();
    expect(freshnessSeconds(null)).toBeNull();
  });

  it("finds sha-256 in a Content-Digest dictionary with several algorithms (RFC 9530)", () => {
    expect(sha256FromContentDigest("sha-512=:AAAA:, sha-256=:YWJj:")).toBe("YWJj");
    expect(sha256FromContentDigest("sha-512=:AAAA:")).toBeNull();
    expect(sha256FromContentDigest("sha-256=YWJj")).toBeNull();
  });
});

describe("JWKS from a URL", () => {
  function serveJwks(getJwks: () => unknown, snapshot: Awaited<ReturnType<Signer["sign"]>>) {
    const snapshotHandler = serveSnapshot(snapshot);
    harness.server.handle((req, res) => {
      if (req.url === "/.well-known/jwks.json") {
        res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(getJwks()));
        return;
      }
      return snapshotHandler(req, res);
    });
  }
  const jwksFetches = () => harness.server.requests.filter((r) => r.url === "/.well-known/jwks.json").length;

  it("fetches the JWKS once, not on every poll", async () => {
    serveJwks(() => harness.signer.jwks, await harness.signer.sign(KEY, 1, {}));
    const { c } = client({ jwks: undefined, jwksUrl: `${harness.server.url}/.well-known/jwks.json` });
    await c.ready();
    await waitFor(() => harness.server.requests.length >= 6);
    expect(jwksFetches()).toBe(1);
  });

  it("never lets a JWKS fetched from the edge replace the keys it trusts (the key swap): a new kid is refused", async () => {
    const forger = await newSigner();
    let published = harness.signer.jwks;
    serveJwks(() => published, await harness.signer.sign(KEY, 1, {}));
    const { c, errors } = client({
      jwks: undefined,
      jwksUrl: `${harness.server.url}/.well-known/jwks.json`,
      jwksRefetchMinMs: 0,
    });
    await c.ready();
    const changes: number[] = [];
    c.onChange((s) => changes.push(s.version));
    // The edge now claims a "rotated" key set holding the forger's key only.
    published = forger.jwks;
    serveJwks(() => published, await forger.sign(KEY, 2, { forged: true }));
    await waitFor(() => errors.filter((e) => e.code === "unknown_kid").length >= 3);
    expect(c.current()?.version).toBe(1);
    expect(changes).toEqual([]);
    expect(jwksFetches()).toBe(1);
  });

  it("does not refetch again for unknown kids within jwksRefetchMinMs", async () => {
    const stranger = await newSigner();
    serveJwks(() => harness.signer.jwks, await harness.signer.sign(KEY, 1, {}));
    const { c, errors } = client({
      jwks: undefined,
      jwksUrl: `${harness.server.url}/.well-known/jwks.json`,
      jwksRefetchMinMs: 60_000,
    });
    await c.ready();
    serveJwks(() => harness.signer.jwks, await stranger.sign(KEY, 2, {}));
    await waitFor(() => errors.filter((e) => e.code === "unknown_kid").length >= 5);
    expect(jwksFetches()).toBe(1);
    expect(c.current()?.version).toBe(1);
  });

  it("reports jwks_unavailable when the JWKS URL serves something else", async () => {
    const snapshotHandler = serveSnapshot(await harness.signer.sign(KEY, 1, {}));
    harness.server.handle((req, res) => {
      if (req.url === "/jwks")
        res.writeHead(200, { "Content-Type": "application/json" }).end('{"not":"a jwks"}');
      else return snapshotHandler(req, res);
    });
    const { c } = client({ jwks: undefined, jwksUrl: `${harness.server.url}/jwks` });
    await expect(c.ready()).rejects.toMatchObject({ code: "jwks_unavailable" });
  });
});
