/**
 * Requests that share one upstream read (worker/cache/single-flight.ts) through the real edge
 * worker, each its own request context, as on a cold start or a busy Cache API tier. workerd
 * cancels a request as "hung" when all it waits for is another request's I/O; a joiner keeps a
 * timer of its own, so every request must answer.
 */
import { describe, expect, it } from "vitest";
import { kvKeys } from "../../core";
import { SingleFlight } from "../../worker/cache/single-flight";
import { publishFixture, putNamespaceSettings, uniqueNamespace } from "../support/snapshot-fixture";
import { worker } from "../support/workerd";
import { edge, env } from "./harness";

describe("single flight across requests", () => {
  it("answers every one of 64 concurrent cold requests for one key with 200", async () => {
    const namespace = uniqueNamespace();
    await putNamespaceSettings(env, namespace, { visibility: "public" });
    const key = `${namespace}/svc/cold`;
    const snapshot = await publishFixture(env, { key, content: { cold: true } });
    const answers = await Promise.all(
      Array.from({ length: 64 }, () => worker.fetch(`https://edge.test/v1/configs/${key}`)),
    );
    expect(answers.map((res) => res.status)).toEqual(Array.from({ length: 64 }, () => 200));
    for (const res of answers) expect(res.headers.get("ETag")).toBe(snapshot.meta.etag);
    await Promise.all(answers.map((res) => res.arrayBuffer()));
  });

  it("makes 64 concurrent cold requests for one key share one KV read of each record", async () => {
    const namespace = uniqueNamespace();
    await putNamespaceSettings(env, namespace, { visibility: "public" });
    const key = `${namespace}/svc/shared`;
    const snapshot = await publishFixture(env, { key, content: { shared: true } });
    // The real KV binding, counted; its answers are held back 300 ms so all 64 requests are in
    // flight at once (each would read KV for itself without the single flight).
    const app = edge({ kvTimeoutMs: 5000 });
    let release = (): void => undefined;
    app.kv.hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const sent = Array.from({ length: 64 }, () => app.send(`/v1/configs/${key}`));
    setTimeout(() => release(), 300);
    const answers = await Promise.all(sent);
    expect(answers.map(({ res }) => res.status)).toEqual(Array.from({ length: 64 }, () => 200));
    for (const { res } of answers) expect(res.headers.get("ETag")).toBe(snapshot.meta.etag);
    await Promise.all(answers.map(async ({ res, settle }) => [await res.arrayBuffer(), await settle()]));
    expect(app.kv.readsOf(kvKeys.namespace(namespace)), "namespace settings reads").toBe(1);
    expect(app.kv.readsOf(kvKeys.head(key)), "head reads").toBe(1);
    expect(app.kv.readsOf(kvKeys.snapshot(key, 1)), "snapshot reads").toBe(1);
  });
});

describe("SingleFlight", () => {
  const ctx = { waitUntil: () => undefined } as unknown as ExecutionContext;

  it("gives concurrent callers the first caller's result, with one read", async () => {
    const flights = new SingleFlight<number>(1000);
    let reads = 0;
    let release: (value: number) => void = () => undefined;
    const read = () => {
      reads++;
      return new Promise<number>((resolve) => {
        release = resolve;
      });
    };
    const first = flights.run("k", ctx, read);
    const second = flights.run("k", ctx, read);
    release(7);
    expect(await Promise.all([first, second])).toEqual([7, 7]);
    expect(reads).toBe(1);
    expect(flights.size).toBe(0);
  });

  it("lets a joiner read for itself once the flight it joined has stalled past joinTimeoutMs", async () => {
    const flights = new SingleFlight<string>(50);
    const stalled = flights.run("k", ctx, () => new Promise<string>(() => undefined));
    const started = Date.now();
    const joiner = await flights.run("k", ctx, async () => "own read");
    expect(joiner).toBe("own read");
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
    void stalled;
  });

  it("passes a failed flight's error to its joiners", async () => {
    const flights = new SingleFlight<string>(1000);
    let fail: (error: Error) => void = () => undefined;
    const first = flights.run("k", ctx, () => new Promise<string>((_, reject) => (fail = reject)));
    const second = flights.run("k", ctx, async () => "never");
    fail(new Error("KV is down"));
    await expect(first).rejects.toThrow("KV is down");
    await expect(second).rejects.toThrow("KV is down");
  });
});
