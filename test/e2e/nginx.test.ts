/**
 * The edge behind a customer's shared cache (nginx `proxy_cache`, configured as
 * docs/shared-caches.md says): its Cache-Control lets nginx answer hits itself, its strong
 * validators turn expiry into a cheap `304` revalidation upstream (RFC 9111 §4.3), a publish shows
 * up within max-age, private configs are never stored, and a long-poll passes through uncached
 * with its If-None-Match, held by the edge and answered 304 or 200 as without nginx.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Jwks } from "../../client";
import { sleep } from "../../scripts/lib/processes";
import {
  adminTokenFor,
  edgeServes,
  field,
  type OriginClient,
  originClient,
  pollUntil,
  send,
  uniqueNamespace,
} from "./support/http";
import { parkedClient } from "./support/long-poll";
import { type CachingProxy, findNginx, startCachingProxy } from "./support/nginx";

const stack = inject("stack");
const nginx = findNginx();
if (!nginx) {
  console.warn(
    "nginx e2e skipped: `nginx` is not installed (apt-get install -y nginx-light; .ci/run installs it).",
  );
}

const MAX_AGE = 2;
// nginx keeps time in whole seconds: an entry stored at t expires once the clock's second is past
// floor(t) + max-age, i.e. up to a second later than max-age alone says.
const NGINX_EXPIRY_MS = MAX_AGE * 1000 + 1000;
const namespace = uniqueNamespace("nginx");
const key = `${namespace}/cdn/settings`;

describe.skipIf(!nginx)("nginx proxy_cache in front of the edge", () => {
  let admin: OriginClient;
  let proxy: CachingProxy;
  let etag1 = "";

  beforeAll(async () => {
    admin = originClient(stack, await adminTokenFor(stack));
    const settings = await admin.setNamespace(namespace, { visibility: "public", maxAge: MAX_AGE });
    expect(settings.status, settings.text).toBe(200);
    expect((await admin.publish(key, '{"v":1}')).status).toBe(201);
    etag1 = String((await edgeServes(stack.edgeUrl, key, 1)).headers.get("ETag"));
    proxy = await startCachingProxy(nginx ?? "nginx", stack.edgeUrl);
  });

  afterAll(async () => {
    await proxy?.stop();
  });

  it("stores a public config and answers the next request itself (HIT)", async () => {
    const first = await send(`${proxy.url}/v1/configs/${key}`);
    expect(first.status).toBe(200);
    expect(first.headers.get("X-Cache-Status")).toBe("MISS");
    expect(first.headers.get("Cache-Control")).toBe(
      `public, max-age=${MAX_AGE}, stale-while-revalidate=30, stale-if-error=86400`,
    );
    const second = await send(`${proxy.url}/v1/configs/${key}`);
    expect(second.headers.get("X-Cache-Status")).toBe("HIT");
    // nginx drops an add_header whose value is empty: no upstream was asked.
    expect(second.headers.get("X-Upstream-Status")).toBeNull();
    expect(second.text).toBe('{"v":1}');
    expect(second.headers.get("ETag")).toBe(etag1);
    expect(second.headers.get("Config-Signature")).toBe(first.headers.get("Config-Signature"));
  });

  it("revalidates with the edge after max-age and gets a 304 (REVALIDATED)", async () => {
    await sleep(NGINX_EXPIRY_MS + 100);
    const after = await send(`${proxy.url}/v1/configs/${key}`);
    expect(after.status).toBe(200);
    expect(after.headers.get("X-Cache-Status")).toBe("REVALIDATED");
    expect(after.headers.get("X-Upstream-Status")).toBe("304");
    expect(after.text).toBe('{"v":1}');
    expect(after.headers.get("ETag")).toBe(etag1);
    // nginx writes the access log line after sending the response: wait (bounded) for it to land.
    const logged = `GET /v1/configs/${key} 200 cache=REVALIDATED upstream=304`;
    await pollUntil(async () => (proxy.accessLog().at(-1) === logged ? true : undefined), {
      timeoutMs: 2000,
      what: `the access log line "${logged}"`,
    });
    // The 304's Cache-Control refreshed the stored entry: the next request is a hit again.
    const again = await send(`${proxy.url}/v1/configs/${key}`);
    expect(again.headers.get("X-Cache-Status")).toBe("HIT");
  });

  it("serves a new version within max-age (plus nginx's second and the edge's purge) after a publish", async () => {
    const published = await admin.publish(key, '{"v":2}');
    expect(published.status, published.text).toBe(201);
    const started = performance.now();
    const served = await pollUntil(
      async () => {
        const answer = await send(`${proxy.url}/v1/configs/${key}`);
        return answer.headers.get("Config-Version") === String(field(published.json, "version"))
          ? answer
          : undefined;
      },
      { timeoutMs: NGINX_EXPIRY_MS + 5000, intervalMs: 50, what: "nginx serving version 2" },
    );
    const elapsed = performance.now() - started;
    console.log(
      `nginx served the new version ${elapsed.toFixed(0)} ms after the publish (max-age ${MAX_AGE} s)`,
    );
    expect(served.text).toBe('{"v":2}');
    expect(served.headers.get("X-Cache-Status")).toMatch(/^(EXPIRED|MISS)$/);
    // The edge itself has the new version within ~0.5 s of the publish (edge-propagation test).
    expect(elapsed).toBeLessThan(NGINX_EXPIRY_MS + 1000);
  });

  it("never stores a config from a private namespace", async () => {
    const privateNs = uniqueNamespace("nginx-priv");
    const privateKey = `${privateNs}/cdn/secret`;
    expect((await admin.publish(privateKey, '{"secret":true}')).status).toBe(201);
    const minted = await admin.call("POST", "/v1/tokens", JSON.stringify({ scope: `read:${privateNs}` }));
    expect(minted.status, minted.text).toBeLessThan(300);
    const auth = { Authorization: `Bearer ${String(field(minted.json, "token"))}` };
    await edgeServes(stack.edgeUrl, privateKey, 1, { headers: auth });
    for (let i = 0; i < 2; i++) {
      const through = await send(`${proxy.url}/v1/configs/${privateKey}`, { headers: auth });
      expect(through.status).toBe(200);
      expect(through.headers.get("Cache-Control")).toMatch(/^private/);
      expect(through.headers.get("X-Cache-Status")).toBe("MISS");
    }
    // And nothing stored answers a request without the token.
    const anonymous = await send(`${proxy.url}/v1/configs/${privateKey}`);
    expect(anonymous.status).toBe(401);
  });

  it("passes a long-poll to the edge with its If-None-Match and waits for the held answer (304)", async () => {
    const fresh = await send(`${proxy.url}/v1/configs/${key}`);
    const etag = fresh.headers.get("ETag") ?? "";
    const started = performance.now();
    const held = await send(`${proxy.url}/v1/configs/${key}`, {
      headers: { "If-None-Match": etag, Prefer: "wait=2" },
    });
    const elapsed = performance.now() - started;
    expect(held.status).toBe(304);
    expect(held.headers.get("Preference-Applied")).toBe("wait=2");
    expect(held.headers.get("ETag")).toBe(etag);
    // Held by the edge, not answered from nginx's cache (which would be at once, without the header).
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    expect(held.headers.get("X-Cache-Status")).toBeNull();
    expect(held.headers.get("X-Upstream-Status")).toBe("304");
  });

  it("delivers a publish to an SDK client long-polling through nginx within 2 s", async () => {
    const liveKey = `${namespace}/cdn/live`;
    expect((await admin.publish(liveKey, '{"n":1}')).status).toBe(201);
    await edgeServes(stack.edgeUrl, liveKey, 1);
    const parked = await parkedClient(proxy.url, liveKey, JSON.parse(stack.secrets.PUBLIC_JWKS) as Jwks);
    try {
      const elapsed = await parked.timeDelivery(2, async () => {
        expect((await admin.publish(liveKey, '{"n":2}')).status).toBe(201);
      });
      console.log(`nginx: long-polled publish delivered ${elapsed.toFixed(0)} ms after the publish answered`);
      expect(elapsed).toBeLessThan(2000);
      expect(parked.client.current()?.value).toEqual({ n: 2 });
      expect(parked.applied.at(-1)).toMatch(/^wait=\d+$/);
    } finally {
      await parked.client.close();
    }
  });
});
