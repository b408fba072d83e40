/** The origin's pure request-parsing helpers: paths, bodies, headers, cursors, preconditions. */
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { FleetconfError } from "../../../core";
import { retryDelayMs } from "../../../origin/distribution/scheduler";
import { readBodyWithin, requireJsonMediaType } from "../../../origin/http/body";
import { decodeCursor, encodeCursor, parseLimit } from "../../../origin/http/cursor";
import { KEY_PATTERN } from "../../../origin/http/declared-routes";
import { readConfigMessage, readPreconditions } from "../../../origin/http/headers";
import { AsyncMutex } from "../../../origin/store/mutex";
import { preconditionFailure } from "../../../origin/store/preconditions";
import type { VersionRecord } from "../../../origin/store/types";

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof FleetconfError ? error.code : "not-a-fleetconf-error";
  }
  return undefined;
}

describe("the {key} path parameter (KEY_PATTERN)", () => {
  // The same path patterns the declared routes register, on a bare router.
  const router = new Hono();
  router.get(`/v1/configs/:key{${KEY_PATTERN}}`, (c) => c.json({ route: "config", key: c.req.param("key") }));
  router.get(`/v1/configs/:key{${KEY_PATTERN}}/-/versions`, (c) =>
    c.json({ route: "versions", key: c.req.param("key") }),
  );
  router.get(`/v1/configs/:key{${KEY_PATTERN}}/-/versions/:n`, (c) =>
    c.json({ route: "version", key: c.req.param("key"), n: c.req.param("n") }),
  );
  const routeOf = async (path: string) => {
    const res = await router.request(path);
    return res.status === 200 ? ((await res.json()) as Record<string, string>) : res.status;
  };

  it.each([
    ["a/b", { route: "config", key: "a/b" }],
    ["payments/prod/versions", { route: "config", key: "payments/prod/versions" }],
    ["payments/prod/rollout", { route: "config", key: "payments/prod/rollout" }],
    ["a/versions/7", { route: "config", key: "a/versions/7" }],
    ["a/b/-/versions", { route: "versions", key: "a/b" }],
    ["a/b/c/versions/-/versions", { route: "versions", key: "a/b/c/versions" }],
    ["a/b/-/versions/7", { route: "version", key: "a/b", n: "7" }],
    // Malformed keys still reach a route, so their validator answers 400 (not the router 404).
    ["a//b", { route: "config", key: "a//b" }],
    ["a/b/", { route: "config", key: "a/b/" }],
    ["a/-x", { route: "config", key: "a/-x" }],
  ])("routes %s", async (path, expected) => {
    expect(await routeOf(`/v1/configs/${path}`)).toEqual(expected);
  });

  it("never lets a key contain the /-/ separator", async () => {
    expect(await routeOf("/v1/configs/a/-/b")).toBe(404);
    expect(await routeOf("/v1/configs/a/b/-/versions/7/x")).toBe(404);
  });
});

describe("readBodyWithin", () => {
  const streamOf = (chunks: number[]) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const size of chunks) controller.enqueue(new Uint8Array(size).fill(0x20));
        controller.close();
      },
    });
  const request = (body: ReadableStream<Uint8Array>) =>
    new Request("http://x/", { method: "PUT", body, duplex: "half" } as RequestInit);

  it("returns the exact bytes within the limit", async () => {
    expect((await readBodyWithin(request(streamOf([3, 4])), 7)).length).toBe(7);
  });

  it("fails with 413 as soon as a stream passes the limit, without a Content-Length", async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(1024));
      },
    });
    await expect(readBodyWithin(request(endless), 10_000)).rejects.toMatchObject({
      code: "payload_too_large",
    });
    expect(pulled).toBeLessThan(20);
  });

  it("fails with 413 from Content-Length alone", async () => {
    const req = new Request("http://x/", {
      method: "PUT",
      body: "x".repeat(20),
      headers: { "Content-Length": "20" },
    });
    await expect(readBodyWithin(req, 10)).rejects.toMatchObject({ code: "payload_too_large" });
  });
});

describe("requireJsonMediaType", () => {
  it.each([
    "application/json",
    "Application/JSON; charset=utf-8",
    "application/merge-patch+json",
    'application/json;charset="UTF-8"',
  ])("accepts %s", (type) => expect(codeOf(() => requireJsonMediaType(type))).toBeUndefined());
  it.each([undefined, "", "text/json", "application/jsonx", "application/json; charset=latin1", "+json"])(
    "refuses %s with 415",
    (type) => expect(codeOf(() => requireJsonMediaType(type))).toBe("unsupported_media_type"),
  );
});

describe("readConfigMessage", () => {
  it("decodes UTF-8 sent as header bytes", () => {
    const bytes = new TextEncoder().encode("déployé ✓");
    const latin1 = String.fromCharCode(...bytes);
    expect(readConfigMessage(new Headers({ "Config-Message": latin1 }))).toBe("déployé ✓");
  });
  it("counts characters, not bytes, against the 1000 limit", () => {
    const text = "é".repeat(1000);
    const latin1 = String.fromCharCode(...new TextEncoder().encode(text));
    expect(readConfigMessage(new Headers({ "Config-Message": latin1 }))).toBe(text);
  });
  it("takes a value the runtime already decoded from UTF-8 as it is", () => {
    // workerd behind wrangler dev hands header bytes to JS decoded as UTF-8; Node's Headers would
    // refuse such a value, so a minimal stand-in carries it here.
    const decoded = (value: string) => ({ get: () => value }) as unknown as Headers;
    expect(readConfigMessage(decoded("plus de débit ✓"))).toBe("plus de débit ✓");
    expect(readConfigMessage(decoded("café"))).toBe("café");
  });
  it("refuses text the runtime could not decode (U+FFFD)", () => {
    const headers = {
      get: (name: string) => (name === "Config-Message" ? "bad \uFFFD byte" : null),
    } as Headers;
    expect(codeOf(() => readConfigMessage(headers))).toBe("invalid_request");
  });
});

describe("readPreconditions", () => {
  it("ignores If-None-Match where the route does not use it", () => {
    const headers = new Headers({ "If-Match": '"a"', "If-None-Match": "*" });
    expect(readPreconditions(headers, { ifNoneMatch: false })).toEqual({ ifMatch: '"a"', ifNoneMatch: null });
  });
  it("refuses an unquoted entity tag", () => {
    expect(
      codeOf(() => readPreconditions(new Headers({ "If-None-Match": "abc" }), { ifNoneMatch: true })),
    ).toBe("invalid_request");
  });
});

describe("cursors and limits", () => {
  it("round-trips a cursor and refuses one with another tag", () => {
    const cursor = encodeCursor("before", 42);
    expect(decodeCursor("before", cursor ?? undefined)).toBe(42);
    expect(codeOf(() => decodeCursor("after", cursor ?? undefined))).toBe("invalid_request");
    expect(encodeCursor("before", null)).toBeNull();
  });
  it("parses limits within bounds", () => {
    expect(parseLimit(undefined, 50, 1000)).toBe(50);
    expect(parseLimit("1000", 50, 1000)).toBe(1000);
    expect(codeOf(() => parseLimit("1001", 50, 1000))).toBe("invalid_request");
    expect(codeOf(() => parseLimit("01", 50, 1000))).toBe("invalid_request");
  });
});

describe("preconditionFailure (RFC 9110 §13.2.2 order)", () => {
  const live: VersionRecord = {
    key: "a/b",
    version: 3,
    etag: '"3-abc"',
    digest: "d",
    signature: "s",
    publishedAt: 0,
    author: "x",
    message: null,
    size: 1,
  };
  it.each([
    [live, '"3-abc"', null, false],
    [live, '"2-old"', null, true],
    [live, "*", null, false],
    [null, "*", null, true],
    [live, null, "*", true],
    [null, null, "*", false],
    [live, null, 'W/"3-abc"', true],
    [live, null, '"2-old"', false],
  ])("live=%o If-Match=%s If-None-Match=%s → fails=%s", (current, ifMatch, ifNoneMatch, fails) => {
    expect(preconditionFailure(current, { ifMatch, ifNoneMatch }) !== null).toBe(fails);
  });
});

describe("retryDelayMs", () => {
  it("doubles from 1 s and caps at 5 minutes", () => {
    expect([1, 2, 3, 4, 9, 10, 50].map(retryDelayMs)).toEqual([
      1000, 2000, 4000, 8000, 256000, 300000, 300000,
    ]);
  });
});

describe("AsyncMutex", () => {
  it("runs critical sections one at a time, in order, even when one throws", async () => {
    const mutex = new AsyncMutex();
    const log: string[] = [];
    const section = (name: string, fail = false) =>
      mutex.run(async () => {
        log.push(`${name}:start`);
        await new Promise((r) => setTimeout(r, 5));
        log.push(`${name}:end`);
        if (fail) throw new Error(name);
      });
    await Promise.allSettled([section("a"), section("b", true), section("c")]);
    expect(log).toEqual(["a:start", "a:end", "b:start", "b:end", "c:start", "c:end"]);
  });
});
