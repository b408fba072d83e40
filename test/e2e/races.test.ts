/**
 * Races over real HTTP against the shared `wrangler dev` stack: 20 concurrent conditional
 * publishes with one If-Match have exactly one winner; 20 concurrent unconditional publishes get
 * consecutive versions, all in history and all readable at the edge byte for byte; and raw
 * request targets with (percent-encoded) dot segments cannot reach a key outside the token's
 * namespace or create a key containing a dot segment.
 */
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  adminTokenFor,
  edgeServes,
  type OriginClient,
  originClient,
  send,
  uniqueNamespace,
} from "./support/http";

const stack = inject("stack");
const CONTENDERS = 20;
const ns = uniqueNamespace("races");
let admin: OriginClient;
const counts = { races: 0, requests: 0 };

beforeAll(async () => {
  admin = originClient(stack, await adminTokenFor(stack));
  const settings = await admin.setNamespace(ns, { visibility: "public", maxAge: 1 });
  expect(settings.status, settings.text).toBe(200);
});

afterAll(() => {
  console.log(JSON.stringify({ suite: "races (e2e)", ...counts }));
});

function tally(statuses: number[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const status of statuses) out[status] = (out[status] ?? 0) + 1;
  return out;
}

describe("concurrent publishes over HTTP", () => {
  it(`lets exactly one of ${CONTENDERS} publishes with the same If-Match win, three rounds running`, async () => {
    const key = `${ns}/if-match`;
    const first = await admin.publish(key, '{"round":0}');
    expect(first.status, first.text).toBe(201);
    let etag = first.headers.get("ETag") ?? "";
    for (let round = 1; round <= 3; round++) {
      const answers = await Promise.all(
        Array.from({ length: CONTENDERS }, (_, i) =>
          admin.publish(key, JSON.stringify({ round, contender: i }), { "If-Match": etag }),
        ),
      );
      counts.races++;
      counts.requests += answers.length;
      expect(tally(answers.map((a) => a.status))).toEqual({ 201: 1, 412: CONTENDERS - 1 });
      for (const loser of answers.filter((a) => a.status === 412)) {
        expect(loser.headers.get("Content-Type")).toBe("application/problem+json");
      }
      const winner = answers.find((a) => a.status === 201);
      expect(winner?.json).toMatchObject({ version: round + 1 });
      etag = winner?.headers.get("ETag") ?? "";
    }
    const served = await edgeServes(stack.edgeUrl, key, 4);
    expect(served.headers.get("ETag")).toBe(etag);
  });

  it(`lets exactly one of ${CONTENDERS} If-None-Match: * creates win`, async () => {
    const key = `${ns}/create-once`;
    const answers = await Promise.all(
      Array.from({ length: CONTENDERS }, (_, i) =>
        admin.publish(key, JSON.stringify({ contender: i }), { "If-None-Match": "*" }),
      ),
    );
    counts.races++;
    counts.requests += answers.length;
    expect(tally(answers.map((a) => a.status))).toEqual({ 201: 1, 412: CONTENDERS - 1 });
  });

  it(`numbers ${CONTENDERS} concurrent publishes 1..${CONTENDERS}, each once, all in history and at the edge`, async () => {
    const key = `${ns}/many/writers`;
    const bodies = Array.from({ length: CONTENDERS }, (_, i) =>
      JSON.stringify({ writer: i, pad: "w".repeat(i) }),
    );
    const answers = await Promise.all(bodies.map((body) => admin.publish(key, body)));
    counts.races++;
    counts.requests += answers.length;
    expect(tally(answers.map((a) => a.status))).toEqual({ 201: CONTENDERS });
    const versionOf = new Map<number, string>();
    answers.forEach((answer, i) => {
      versionOf.set((answer.json as { version: number }).version, bodies[i] as string);
    });
    expect([...versionOf.keys()].sort((a, b) => a - b)).toEqual(
      Array.from({ length: CONTENDERS }, (_, i) => i + 1),
    );

    const history = await admin.call("GET", `/v1/configs/${key}/-/versions?limit=1000`);
    const listed = (history.json as { versions: { version: number }[] }).versions.map((v) => v.version);
    expect(listed).toEqual(Array.from({ length: CONTENDERS }, (_, i) => CONTENDERS - i));

    // Every version's snapshot reached KV: the edge serves each one's exact bytes.
    await edgeServes(stack.edgeUrl, key, CONTENDERS);
    for (const [version, body] of versionOf) {
      const answer = await send(`${stack.edgeUrl}/v1/configs/${key}?version=${version}`);
      expect(answer.status).toBe(200);
      expect(answer.text).toBe(body);
    }
  });
});

interface RawAnswer {
  status: number;
  head: string;
  body: string;
}

/** One HTTP/1.1 request with the request target sent exactly as given (no client normalisation). */
function rawRequest(
  base: string,
  method: string,
  target: string,
  headers: Record<string, string>,
  body = "",
): Promise<RawAnswer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let data = "";
    socket.setEncoding("utf8");
    socket.setTimeout(15_000, () => socket.destroy(new Error("raw request timed out")));
    const parse = (): RawAnswer => {
      const [head = "", ...rest] = data.split("\r\n\r\n");
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? "0");
      return { status, head, body: rest.join("\r\n\r\n") };
    };
    socket.on("data", (chunk: string) => {
      data += chunk;
      // Done once the whole body announced by Content-Length is in (the server may keep the
      // connection open despite `Connection: close`).
      const answer = parse();
      const length = /\r\ncontent-length: *(\d+)/i.exec(answer.head)?.[1];
      if (
        data.includes("\r\n\r\n") &&
        length !== undefined &&
        Buffer.byteLength(answer.body) >= Number(length)
      ) {
        socket.destroy();
      }
    });
    socket.on("error", reject);
    socket.on("close", () => resolve(parse()));
    const lines = [
      `${method} ${target} HTTP/1.1`,
      `Host: ${url.host}`,
      "Connection: close",
      `Content-Length: ${Buffer.byteLength(body)}`,
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
      "",
      body,
    ];
    socket.write(lines.join("\r\n"));
  });
}

describe("dot segments in raw request targets", () => {
  const victim = uniqueNamespace("victim");

  beforeAll(async () => {
    const answer = await admin.publish(`${victim}/app`, '{"victim":true}');
    expect(answer.status).toBe(201);
  });

  it.each([
    ["%2e%2e", (own: string) => `/v1/configs/${own}/%2e%2e/${victim}/app`],
    ["%2E%2E", (own: string) => `/v1/configs/${own}/%2E%2E/${victim}/app`],
    ["..", (own: string) => `/v1/configs/${own}/../${victim}/app`],
    [".%2e", (own: string) => `/v1/configs/${own}/x/.%2e/.%2e/${victim}/app`],
  ])(
    "cannot publish outside the token's namespace with %s (403 or 400, victim unchanged)",
    async (_, target) => {
      const own = uniqueNamespace("own");
      const token = await adminTokenFor(stack, `publish:${own}`);
      const answer = await rawRequest(
        stack.originUrl,
        "PUT",
        target(own),
        {
          Authorization: `Bearer ${token}`,
          "Content-Type": "application/json",
        },
        '{"pwned":true}',
      );
      counts.requests++;
      // The runtime resolves dot segments before the worker runs (RFC 3986 §5.2.4), so the request
      // addresses the victim's key, and the token's scope refuses it.
      expect([400, 403]).toContain(answer.status);
      const current = await admin.get(`${victim}/app`);
      expect(current.text).toBe('{"victim":true}');
      expect(current.headers.get("Config-Version")).toBe("1");
    },
  );

  it("never stores a key containing a dot segment: the target resolves to a valid key first", async () => {
    const own = uniqueNamespace("own");
    const token = await adminTokenFor(stack, `publish:${own}`);
    const answer = await rawRequest(
      stack.originUrl,
      "PUT",
      `/v1/configs/${own}/app/%2e%2e/other`,
      {
        Authorization: `Bearer ${token}`,
        "Content-Type": "application/json",
      },
      '{"a":1}',
    );
    counts.requests++;
    if (answer.status === 201) {
      // Resolved to `${own}/other`: a valid key in the token's own namespace.
      expect(JSON.parse(answer.body)).toMatchObject({ key: `${own}/other`, version: 1 });
    } else expect(answer.status).toBe(400);
    const audit = await admin.call("GET", `/v1/audit?namespace=${own}`);
    const keys = (audit.json as { entries: { key: string | null }[] }).entries.map((e) => e.key);
    for (const stored of keys) expect(stored ?? "").not.toMatch(/(^|\/)\.\.?(\/|$)|%2e/i);
  });

  it("cannot read a private namespace at the edge through a dot segment", async () => {
    const secret = uniqueNamespace("private");
    expect((await admin.publish(`${secret}/app`, '{"hidden":true}')).status).toBe(201);
    const target = `/v1/configs/${ns}/x/%2e%2e/%2e%2e/${secret}/app`;
    const answer = await rawRequest(stack.edgeUrl, "GET", target, {});
    counts.requests++;
    expect([400, 401]).toContain(answer.status);
    expect(answer.body).not.toContain("hidden");
  });
});
