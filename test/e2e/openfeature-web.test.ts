/**
 * The real OpenFeature web SDK (`@openfeature/web-sdk`) with its OFREP provider
 * (`@openfeature/ofrep-web-provider`), run in Node (it needs only `fetch`): bulk evaluation of a
 * flags key named by `Config-Flags-Key` in a public namespace, revalidated by polling with
 * If-None-Match (304 while nothing changed), and a new flags version seen without a restart.
 */
import { OFREPWebProvider } from "@openfeature/ofrep-web-provider";
import { OpenFeature, ProviderEvents } from "@openfeature/web-sdk";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { demoFlags } from "../support/flagd-fixture";
import { adminTokenFor, type OriginClient, originClient, pollUntil, uniqueNamespace } from "./support/http";

const stack = inject("stack");
const namespace = uniqueNamespace("ofw");
const flagsKey = `${namespace}/app/features`;

/** What the provider's requests got back: the real fetch, observed, not replaced. */
const statuses: number[] = [];
const observedFetch: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  statuses.push(res.status);
  return res;
};

describe("OpenFeature web SDK over OFREP (bulk) against wrangler dev", () => {
  let admin: OriginClient;

  beforeAll(async () => {
    admin = originClient(stack, await adminTokenFor(stack));
    const settings = await admin.setNamespace(namespace, { visibility: "public" });
    expect(settings.status, settings.text).toBe(200);
    const published = await admin.publish(flagsKey, JSON.stringify(demoFlags()));
    expect(published.status, published.text).toBe(201);
    await OpenFeature.setContext({ targetingKey: "web-user-1", email: "ann@example.com" });
    await OpenFeature.setProviderAndWait(
      new OFREPWebProvider({
        baseUrl: stack.edgeUrl,
        headers: [["Config-Flags-Key", flagsKey]],
        fetchImplementation: observedFetch,
        pollInterval: 200,
        changeDetection: "polling",
        cacheMode: "disabled",
        disableVisibilityRefresh: true,
      }),
    );
  });

  afterAll(async () => {
    await OpenFeature.close();
  });

  it("evaluates every flag once for the static context", () => {
    const client = OpenFeature.getClient();
    expect(client.getBooleanValue("new-checkout", false)).toBe(true);
    expect(client.getStringDetails("welcome-text", "fallback")).toMatchObject({
      value: "Hello, colleague",
      reason: "TARGETING_MATCH",
    });
    expect(client.getObjectValue("limits", {})).toEqual({ rps: 10 });
    expect(client.getBooleanValue("retired", true)).toBe(true);
  });

  it("revalidates with If-None-Match and gets 304 while the flags are unchanged", async () => {
    await pollUntil(async () => (statuses.filter((s) => s === 304).length >= 2 ? true : undefined), {
      timeoutMs: 10_000,
      what: "two 304 answers to the provider's polls",
    });
    expect(statuses[0]).toBe(200);
  });

  it("sees a newly published version (ConfigurationChanged) without a restart", async () => {
    const client = OpenFeature.getClient();
    let changed = 0;
    client.addHandler(ProviderEvents.ConfigurationChanged, () => {
      changed++;
    });
    const published = await admin.publish(
      flagsKey,
      JSON.stringify({
        ...demoFlags(),
        flags: {
          ...demoFlags().flags,
          "new-checkout": { ...demoFlags().flags["new-checkout"], defaultVariant: "off" },
        },
      }),
    );
    expect(published.status, published.text).toBe(201);
    await pollUntil(async () => (client.getBooleanValue("new-checkout", true) === false ? true : undefined), {
      timeoutMs: 15_000,
      intervalMs: 50,
      what: "new-checkout to turn off",
    });
    expect(changed).toBeGreaterThanOrEqual(1);
  });
});
