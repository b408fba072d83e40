/**
 * ZonePurger against a local fake of Cloudflare's zone purge API (a real node:http server): the
 * request it sends, its auth header, batching at 30 tags, and every failure mode throwing.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PurgeError } from "../../../origin/distribution/purger";
import { purgeTags, ZONE_PURGE_MAX_TAGS, ZonePurger } from "../../../origin/distribution/zone-purger";

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: unknown;
}

let server: Server;
let base: string;
const seen: Seen[] = [];
let reply: { status: number; body: string; delayMs?: number } = { status: 200, body: '{"success":true}' };

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    seen.push({
      method: req.method ?? "",
      url: req.url ?? "",
      authorization: req.headers.authorization,
      contentType: req.headers["content-type"],
      body: await readJson(req),
    });
    const { status, body, delayMs } = reply;
    setTimeout(() => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(body);
    }, delayMs ?? 0);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/client/v4`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  seen.length = 0;
  reply = { status: 200, body: '{"success":true,"errors":[],"messages":[],"result":{"id":"z"}}' };
});

const purger = () => new ZonePurger({ zoneId: "zone123", apiToken: "tok-secret", apiBase: base });

describe("ZonePurger", () => {
  it("POSTs the key and namespace tags to /zones/{zone}/purge_cache with the bearer token", async () => {
    await purger().purge({ keys: ["pay/prod/flags"], namespaces: ["pay"] });
    expect(seen).toEqual([
      {
        method: "POST",
        url: "/client/v4/zones/zone123/purge_cache",
        authorization: "Bearer tok-secret",
        contentType: "application/json",
        body: { tags: ["fc:key:pay/prod/flags", "fc:ns:pay"] },
      },
    ]);
  });

  it("sends at most 30 tags per call", async () => {
    const keys = Array.from({ length: 65 }, (_, i) => `ns/k${i}`);
    await purger().purge({ keys, namespaces: [] });
    expect(seen.map((s) => (s.body as { tags: string[] }).tags.length)).toEqual([30, 30, 5]);
    expect(seen.flatMap((s) => (s.body as { tags: string[] }).tags)).toEqual(
      purgeTags({ keys, namespaces: [] }),
    );
    expect(ZONE_PURGE_MAX_TAGS).toBe(30);
  });

  it("sends nothing when there is nothing to purge", async () => {
    await purger().purge({ keys: [], namespaces: [] });
    expect(seen).toEqual([]);
  });

  it("throws when the API answers success: false, even with HTTP 200", async () => {
    reply = { status: 200, body: '{"success":false,"errors":[{"code":1134,"message":"zone not found"}]}' };
    await expect(purger().purge({ keys: ["a/b"], namespaces: [] })).rejects.toThrow(/zone not found/);
  });

  it.each([
    [403, '{"success":false,"errors":[{"code":10000,"message":"Authentication error"}]}'],
    [500, "<html>oops</html>"],
    [429, '{"success":false,"errors":[{"message":"rate limited"}]}'],
  ])("throws a PurgeError for HTTP %i", async (status, body) => {
    reply = { status, body };
    const error = await purger()
      .purge({ keys: ["a/b"], namespaces: [] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PurgeError);
    expect(String(error)).toContain(String(status));
    // The API token never appears in an error message (they end up in logs).
    expect(String(error)).not.toContain("tok-secret");
  });

  it("throws when the API is unreachable", async () => {
    const unreachable = new ZonePurger({
      zoneId: "z",
      apiToken: "t",
      apiBase: "http://127.0.0.1:1/client/v4",
    });
    await expect(unreachable.purge({ keys: ["a/b"], namespaces: [] })).rejects.toBeInstanceOf(PurgeError);
  });

  it("stops at the first failed batch", async () => {
    reply = { status: 200, body: '{"success":false}' };
    const keys = Array.from({ length: 40 }, (_, i) => `ns/k${i}`);
    await expect(purger().purge({ keys, namespaces: [] })).rejects.toBeInstanceOf(PurgeError);
    expect(seen).toHaveLength(1);
  });
});
