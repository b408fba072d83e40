/**
 * The edge behind Varnish 7 (Debian's package, the VCL of docs/shared-caches.md), as a new user
 * would put it in front of a fleet: a public key is one cache entry per version for every client,
 * whatever `Config-Client-Id` each sends (DESIGN §3); a rollout's answers are never shared across
 * cohorts; and a long-poll passes through to the edge and delivers a publish at once. Varnish must
 * be installed: without it this file fails (CI installs it), it does not skip.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Jwks } from "../../client";
import { bucketOf, inCohort } from "../../core/rollout";
import {
  adminTokenFor,
  edgeServes,
  type OriginClient,
  originClient,
  pollUntil,
  type Sent,
  send,
  uniqueNamespace,
} from "./support/http";
import { parkedClient } from "./support/long-poll";
import { startVarnish, type VarnishCache } from "./support/varnish";

const stack = inject("stack");
const namespace = uniqueNamespace("varnish");
const CLIENTS = 500;
const CONCURRENCY = 25;

/** Varnish's `X-Varnish` is `<request id>` on a miss or pass, `<request id> <object's id>` on a hit. */
const isHit = (answer: Sent) => (answer.headers.get("X-Varnish") ?? "").trim().split(/\s+/).length === 2;

/** Runs `task` for each item, `limit` at a time, keeping the order of the results. */
async function inBatches<T, R>(items: T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += limit) {
    results.push(...(await Promise.all(items.slice(i, i + limit).map(task))));
  }
  return results;
}

describe("Varnish 7 in front of the edge", () => {
  let admin: OriginClient;
  let varnish: VarnishCache;

  beforeAll(async () => {
    varnish = await startVarnish(stack.edgeUrl);
    admin = originClient(stack, await adminTokenFor(stack));
    // max-age long enough that the whole test runs inside one freshness lifetime.
    const settings = await admin.setNamespace(namespace, { visibility: "public", maxAge: 120 });
    expect(settings.status, settings.text).toBe(200);
  });

  afterAll(async () => {
    await varnish?.stop();
  });

  it("keeps one entry for a public key: 500 clients with distinct Config-Client-Id get hits", async () => {
    const key = `${namespace}/app/settings`;
    expect((await admin.publish(key, '{"pool":8}')).status).toBe(201);
    await edgeServes(stack.edgeUrl, key, 1);
    const counters = ["MAIN.cache_hit", "MAIN.cache_miss", "MAIN.n_object"];
    const before = await varnish.stats(counters);
    const ids = Array.from({ length: CLIENTS }, (_, i) => `host-${i}.rack-${i % 17}`);
    const get = (id: string, headers: Record<string, string> = {}) =>
      send(`${varnish.url}/v1/configs/${key}`, { headers: { "Config-Client-Id": id, ...headers } });

    // The first client alone (the one miss), then the rest, as a fleet polling one key.
    const [firstId = "", ...rest] = ids;
    const first = await get(firstId);
    const answers = [first, ...(await inBatches(rest, CONCURRENCY, (id) => get(id)))];
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.text).toBe('{"pool":8}');
      expect(answer.headers.get("ETag")).toBe(first.headers.get("ETag"));
    }
    const hits = answers.filter(isHit).length;
    // …and their conditional polls are answered by Varnish too (304 from the stored entry).
    const etag = first.headers.get("ETag") ?? "";
    const polls = await inBatches(ids, CONCURRENCY, (id) => get(id, { "If-None-Match": etag }));
    for (const poll of polls) expect(poll.status).toBe(304);
    // Worker threads add their counts to the global counters in batches (`thread_stats_rate`) or
    // when idle: wait (bounded) for every request to be counted, then compare exactly.
    let after: Record<string, number> = {};
    const delta = (name: string) => (after[name] ?? 0) - (before[name] ?? 0);
    await pollUntil(
      async () => {
        after = await varnish.stats(counters);
        return delta("MAIN.cache_hit") + delta("MAIN.cache_miss") >= 2 * CLIENTS ? true : undefined;
      },
      { timeoutMs: 5000, intervalMs: 100, what: "varnishstat to count every request" },
    ).catch(() => undefined);
    console.log(
      `varnish: ${hits}/${CLIENTS} hits for distinct client ids, ${polls.filter(isHit).length}/${CLIENTS} conditional hits; ` +
        `cache_hit +${delta("MAIN.cache_hit")}, cache_miss +${delta("MAIN.cache_miss")}, n_object +${delta("MAIN.n_object")}`,
    );
    expect(
      first.headers.get("Vary") ?? "",
      "a public answer outside a rollout must not vary by client",
    ).not.toMatch(/config-client-id/i);
    expect(hits).toBe(CLIENTS - 1);
    expect(polls.filter(isHit).length).toBe(CLIENTS);
    expect(delta("MAIN.cache_miss")).toBe(1);
    expect(delta("MAIN.cache_hit")).toBe(2 * CLIENTS - 1);
    // One object for the key and version, not one per client.
    expect(delta("MAIN.n_object")).toBe(1);
  });

  it("never hands one cohort's version to another during a rollout", async () => {
    const key = `${namespace}/app/flags`;
    expect((await admin.publish(key, '{"feature":"old"}')).status).toBe(201);
    await edgeServes(stack.edgeUrl, key, 1);
    const started = await admin.publish(key, '{"feature":"new"}', { "Config-Rollout": "50" });
    expect(started.status, started.text).toBe(201);
    const ids = Array.from({ length: 200 }, (_, i) => `node-${i}`);
    const candidates = ids.filter((id) => inCohort(bucketOf(key, id), 50)).slice(0, 10);
    const stable = ids.filter((id) => !inCohort(bucketOf(key, id), 50)).slice(0, 10);
    expect(candidates).toHaveLength(10);
    expect(stable).toHaveLength(10);
    await pollUntil(
      async () => {
        const answer = await send(`${stack.edgeUrl}/v1/configs/${key}`, {
          headers: { "Config-Client-Id": candidates[0] ?? "" },
        });
        return answer.headers.get("Config-Version") === "2" ? true : undefined;
      },
      { what: "the edge serving the candidate to its cohort" },
    );
    // Interleaved, three rounds: whichever side asked last, each client gets its own cohort's version.
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < candidates.length; i++) {
        for (const [id, version, body] of [
          [candidates[i] ?? "", "2", '{"feature":"new"}'],
          [stable[i] ?? "", "1", '{"feature":"old"}'],
        ] as const) {
          const answer = await send(`${varnish.url}/v1/configs/${key}`, {
            headers: { "Config-Client-Id": id },
          });
          expect(answer.status).toBe(200);
          expect(answer.headers.get("Config-Version"), `${id} in round ${round}`).toBe(version);
          expect(answer.text).toBe(body);
        }
      }
    }
  });

  it("passes a long-poll to the edge, which delivers a publish at once through Varnish", async () => {
    const key = `${namespace}/app/live`;
    expect((await admin.publish(key, '{"n":1}')).status).toBe(201);
    await edgeServes(stack.edgeUrl, key, 1);
    const parked = await parkedClient(varnish.url, key, JSON.parse(stack.secrets.PUBLIC_JWKS) as Jwks);
    try {
      const elapsed = await parked.timeDelivery(2, async () => {
        expect((await admin.publish(key, '{"n":2}')).status).toBe(201);
      });
      console.log(
        `varnish: long-polled publish delivered ${elapsed.toFixed(0)} ms after the publish answered`,
      );
      expect(elapsed).toBeLessThan(2000);
      // The edge held the request (through Varnish's pass) and said so.
      expect(parked.applied.at(-1)).toMatch(/^wait=\d+$/);
    } finally {
      await parked.client.close();
    }
  });
});
