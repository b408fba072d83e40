/**
 * The real OpenFeature server SDK (`@openfeature/server-sdk`) with the real OFREP provider
 * (`@openfeature/ofrep-provider`) evaluating flags kept at `{namespace}/flags` in a private
 * namespace, from the wrangler-dev stack's edge, and seeing a new flags version without a restart.
 */
import { OFREPProvider } from "@openfeature/ofrep-provider";
import { type Client, ErrorCode, OpenFeature } from "@openfeature/server-sdk";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { demoFlags } from "../support/flagd-fixture";
import {
  adminTokenFor,
  field,
  type OriginClient,
  originClient,
  pollUntil,
  uniqueNamespace,
} from "./support/http";

const stack = inject("stack");
const namespace = uniqueNamespace("of");
const flagsKey = `${namespace}/flags`;

describe("OpenFeature server SDK over OFREP against wrangler dev", () => {
  let admin: OriginClient;
  let client: Client;

  beforeAll(async () => {
    admin = originClient(stack, await adminTokenFor(stack));
    const published = await admin.publish(flagsKey, JSON.stringify(demoFlags()));
    expect(published.status, published.text).toBe(201);
    const minted = await admin.call(
      "POST",
      "/v1/tokens",
      JSON.stringify({ scope: `read:${namespace}`, ttl: 600 }),
    );
    expect(minted.status, minted.text).toBe(200);
    const token = String(field(minted.json, "token"));
    // No Config-Flags-Key: a token scoped to one namespace reads {namespace}/flags.
    await OpenFeature.setProviderAndWait(
      new OFREPProvider({ baseUrl: stack.edgeUrl, headers: { Authorization: `Bearer ${token}` } }),
    );
    client = OpenFeature.getClient("e2e");
  });

  afterAll(async () => {
    await OpenFeature.close();
  });

  it("evaluates a static boolean flag", async () => {
    const details = await client.getBooleanDetails("new-checkout", false);
    expect(details).toMatchObject({ value: true, variant: "on", reason: "STATIC" });
  });

  it("applies targeting from the evaluation context", async () => {
    const staff = await client.getStringDetails("welcome-text", "fallback", {
      targetingKey: "u-1",
      email: "ann@example.com",
    });
    expect(staff).toMatchObject({ value: "Hello, colleague", reason: "TARGETING_MATCH" });
    expect(staff.flagMetadata).toMatchObject({ owner: "growth" });
    const guest = await client.getStringValue("welcome-text", "fallback", {
      targetingKey: "u-2",
      email: "b@x.org",
    });
    expect(guest).toBe("Hello");
  });

  it("buckets a fractional flag by targetingKey, the same way every time", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++)
      seen.add(await client.getStringValue("color-split", "none", { targetingKey: `user-${i}` }));
    expect([...seen].sort()).toEqual(["blue", "red"]);
    const once = await client.getStringValue("color-split", "none", { targetingKey: "user-3" });
    expect(await client.getStringValue("color-split", "none", { targetingKey: "user-3" })).toBe(once);
  });

  it("returns object and number flags", async () => {
    expect(await client.getObjectValue("limits", {})).toEqual({ rps: 10 });
    expect(await client.getNumberValue("max-items", 0)).toBe(3);
  });

  it("falls back to the code default with FLAG_NOT_FOUND for a missing or disabled flag", async () => {
    const missing = await client.getBooleanDetails("no-such-flag", false);
    expect(missing).toMatchObject({ value: false, errorCode: ErrorCode.FLAG_NOT_FOUND });
    const disabled = await client.getBooleanDetails("retired", true);
    expect(disabled).toMatchObject({ value: true, errorCode: ErrorCode.FLAG_NOT_FOUND });
  });

  it("reports TYPE_MISMATCH when the flag's value has another type than asked for", async () => {
    const details = await client.getBooleanDetails("welcome-text", false);
    expect(details).toMatchObject({ value: false, errorCode: ErrorCode.TYPE_MISMATCH });
  });

  it("sees a newly published flags version without a restart", async () => {
    const published = await admin.publish(flagsKey, JSON.stringify(demoFlags({ welcome: "Bonjour" })));
    expect(published.status, published.text).toBe(201);
    const value = await pollUntil(
      async () => {
        const current = await client.getStringValue("welcome-text", "fallback", { targetingKey: "u-2" });
        return current === "Bonjour" ? current : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 100, what: "the new welcome-text" },
    );
    expect(value).toBe("Bonjour");
  });
});
