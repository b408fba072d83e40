import { describe, expect, it } from "vitest";
import { decodeSnapshot, type HeadRecord, type Jwks, kvKeys, verifySnapshot } from "../../core";
import { adminToken, call, freshNamespace, originEnv, problemOf, publish, publishOk } from "./support/origin";

describe("PUT /v1/configs/{key}", () => {
  it("answers 201 with the version record, ETag and Location for a first publish", async () => {
    const key = `${freshNamespace()}/prod/flags`;
    const res = await publish(key, '{"beta": true}');
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ key, version: 1, distribution: "complete" });
    expect(body.etag).toMatch(/^"1-[A-Za-z0-9_-]{22}"$/);
    expect(body.digest).toMatch(/^sha-256=:[A-Za-z0-9+/]+=*:$/);
    expect(new Date(String(body.publishedAt)).toISOString()).toBe(body.publishedAt);
    expect(res.headers.get("ETag")).toBe(body.etag);
    expect(res.headers.get("Config-Version")).toBe("1");
    expect(res.headers.get("Location")).toBe(`/v1/configs/${key}/-/versions/1`);
  });

  it("numbers versions 1, 2, 3 with a distinct ETag each", async () => {
    const key = `${freshNamespace()}/app`;
    const versions = [];
    for (const n of [1, 2, 3]) versions.push(await publishOk(key, { n }));
    expect(versions.map((v) => v.version)).toEqual([1, 2, 3]);
    expect(new Set(versions.map((v) => v.etag)).size).toBe(3);
  });

  it("answers 200 with the current version when the bytes are identical (no new version)", async () => {
    const key = `${freshNamespace()}/app`;
    const first = await publishOk(key, '{"a": 1}');
    const again = await publish(key, '{"a": 1}');
    expect(again.status).toBe(200);
    expect(again.headers.get("Location")).toBeNull();
    expect(await again.json()).toMatchObject({ version: 1, etag: first.etag, distribution: "complete" });
    // Same JSON value but different bytes is a new version: content is the exact bytes.
    const spaced = await publish(key, '{"a":1}');
    expect(spaced.status).toBe(201);
    expect(await spaced.json()).toMatchObject({ version: 2 });
  });

  it("writes the snapshot and head to KV, and the signature verifies against PUBLIC_JWKS", async () => {
    const key = `${freshNamespace()}/svc/limits`;
    const text = '{"rps": 100, "burst": [1, 2, 3]}';
    const published = await publishOk(key, text);
    const raw = await originEnv.CONFIGS.get(kvKeys.snapshot(key, 1), "arrayBuffer");
    expect(raw).not.toBeNull();
    const snapshot = decodeSnapshot(raw as ArrayBuffer);
    expect(new TextDecoder().decode(snapshot.body)).toBe(text);
    expect(snapshot.meta).toMatchObject({ key, version: 1, etag: published.etag, digest: published.digest });
    const jwks = JSON.parse(originEnv.PUBLIC_JWKS) as Jwks;
    const check = await verifySnapshot(snapshot.meta.signature, snapshot.body, jwks);
    expect(check.ok).toBe(true);
    const tampered = await verifySnapshot(
      snapshot.meta.signature,
      new TextEncoder().encode('{"rps": 1}'),
      jwks,
    );
    expect(tampered).toMatchObject({ ok: false, code: "bad_signature" });
    const head = (await originEnv.CONFIGS.get(kvKeys.head(key), "json")) as HeadRecord;
    expect(head).toEqual({
      v: 1,
      key,
      version: 1,
      etag: published.etag,
      publishedAt: Date.parse(published.publishedAt),
      deleted: false,
      rollout: null,
    });
  });

  it("serialises concurrent publishes to one key into distinct, gap-free versions", async () => {
    const key = `${freshNamespace()}/race`;
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => publishOk(key, { i })));
    expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const head = (await originEnv.CONFIGS.get(kvKeys.head(key), "json")) as HeadRecord;
    expect(head.version).toBe(8);
  });

  it("records a UTF-8 Config-Message, sent as bytes, as text", async () => {
    const key = `${freshNamespace()}/app`;
    const utf8AsBytes = String.fromCharCode(...new TextEncoder().encode("plus de débit ✓"));
    await publishOk(key, { a: 1 }, { headers: { "Config-Message": utf8AsBytes } });
    const history = (await (await call("GET", `/v1/configs/${key}/-/versions`)).json()) as {
      versions: { message: string }[];
    };
    expect(history.versions[0]?.message).toBe("plus de débit ✓");
  });

  it("records Config-Message as the version's message", async () => {
    const key = `${freshNamespace()}/app`;
    await publishOk(key, { a: 1 }, { headers: { "Config-Message": "raise limits for launch" } });
    const history = (await (await call("GET", `/v1/configs/${key}/-/versions`)).json()) as {
      versions: { message: string; author: string }[];
    };
    expect(history.versions[0]).toMatchObject({ message: "raise limits for launch", author: "tester" });
  });
});

describe("PUT /v1/configs/{key}: errors change nothing", () => {
  it.each([
    ["not JSON", "{nope"],
    ["a duplicate member name", '{"a": 1, "a": 2}'],
    ["an empty body", ""],
    ["trailing garbage", '{"a": 1} x'],
  ])("answers 400 invalid_json for %s", async (_, body) => {
    const key = `${freshNamespace()}/app`;
    const res = await publish(key, body);
    expect(res.status).toBe(400);
    expect((await problemOf(res)).code).toBe("invalid_json");
    expect((await call("GET", `/v1/configs/${key}`)).status).toBe(404);
  });

  it.each([
    ["one segment", "justone"],
    ["an upper-case letter", "ns/App"],
    ["five segments", "a/b/c/d/e"],
    ["an encoded slash", "ns/a%2Fb"],
    ["a segment starting with a dot", "ns/.hidden"],
  ])("answers 400 invalid_key for %s", async (_, key) => {
    const res = await publish(key, { a: 1 });
    expect(res.status).toBe(400);
    expect((await problemOf(res)).code).toBe("invalid_key");
  });

  it.each([
    ["text/plain", "text/plain"],
    ["no Content-Type", ""],
    ["form data", "application/x-www-form-urlencoded"],
    ["a non-UTF-8 charset", "application/json; charset=iso-8859-1"],
  ])("answers 415 for %s", async (_, type) => {
    const key = `${freshNamespace()}/app`;
    const res = await call("PUT", `/v1/configs/${key}`, {
      body: '{"a": 1}',
      headers: type ? { "Content-Type": type } : {},
    });
    expect(res.status).toBe(415);
    expect((await problemOf(res)).code).toBe("unsupported_media_type");
  });

  it("accepts a +json media type and a utf-8 charset", async () => {
    const ns = freshNamespace();
    const a = await publish(`${ns}/a`, "{}", { headers: { "Content-Type": "application/vnd.acme+json" } });
    const b = await publish(`${ns}/b`, "{}", {
      headers: { "Content-Type": "application/json; charset=UTF-8" },
    });
    expect([a.status, b.status]).toEqual([201, 201]);
  });

  it("answers 413 when Content-Length exceeds MAX_CONFIG_BYTES", async () => {
    const key = `${freshNamespace()}/big`;
    const limit = Number(originEnv.MAX_CONFIG_BYTES);
    const body = `"${"x".repeat(limit)}"`;
    const res = await publish(key, body);
    expect(res.status).toBe(413);
    expect((await problemOf(res)).code).toBe("payload_too_large");
    expect((await call("GET", `/v1/configs/${key}`)).status).toBe(404);
  });

  it("answers 413 for a streamed body without Content-Length once it passes the limit", async () => {
    const key = `${freshNamespace()}/big`;
    const limit = Number(originEnv.MAX_CONFIG_BYTES);
    const chunk = new TextEncoder().encode(" ".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        // Whitespace is valid JSON padding: only the size can make this fail.
        if (sent > limit + chunk.length) controller.close();
        else {
          sent += chunk.length;
          controller.enqueue(chunk);
        }
      },
    });
    const res = await call("PUT", `/v1/configs/${key}`, {
      body: stream,
      headers: { "Content-Type": "application/json" },
    });
    expect(res.status).toBe(413);
    expect((await problemOf(res)).code).toBe("payload_too_large");
  });

  it("accepts a body of exactly MAX_CONFIG_BYTES", async () => {
    const key = `${freshNamespace()}/big`;
    const limit = Number(originEnv.MAX_CONFIG_BYTES);
    const res = await publish(key, `"${"x".repeat(limit - 2)}"`);
    expect(res.status).toBe(201);
  });

  it("answers 400 for a Config-Message over 1000 characters or with control characters", async () => {
    const key = `${freshNamespace()}/app`;
    const long = await publish(key, "{}", { headers: { "Config-Message": "m".repeat(1001) } });
    expect(long.status).toBe(400);
    const ok = await publish(key, "{}", { headers: { "Config-Message": "m".repeat(1000) } });
    expect(ok.status).toBe(201);
    const control = await publish(key, "[]", { headers: { "Config-Message": "a\tb" } });
    expect(control.status).toBe(400);
  });
});

describe("PUT /v1/configs/{key} preconditions (RFC 9110 §13.1)", () => {
  it("publishes over the named version with a matching If-Match", async () => {
    const key = `${freshNamespace()}/app`;
    const v1 = await publishOk(key, { v: 1 });
    const res = await publish(key, { v: 2 }, { headers: { "If-Match": v1.etag } });
    expect(res.status).toBe(201);
  });

  it("answers 412 and changes nothing when If-Match names an older version", async () => {
    const key = `${freshNamespace()}/app`;
    const v1 = await publishOk(key, { v: 1 });
    await publishOk(key, { v: 2 });
    const res = await publish(key, { v: 3 }, { headers: { "If-Match": v1.etag } });
    expect(res.status).toBe(412);
    expect((await problemOf(res)).code).toBe("precondition_failed");
    const current = await call("GET", `/v1/configs/${key}`);
    expect(current.headers.get("Config-Version")).toBe("2");
  });

  it("answers 412 for If-Match on a key with no current version, and for a weak tag", async () => {
    const key = `${freshNamespace()}/app`;
    expect((await publish(key, {}, { headers: { "If-Match": "*" } })).status).toBe(412);
    const v1 = await publishOk(key, { v: 1 });
    // If-Match uses the strong comparison: W/"…" never matches.
    expect((await publish(key, { v: 2 }, { headers: { "If-Match": `W/${v1.etag}` } })).status).toBe(412);
    expect((await publish(key, { v: 2 }, { headers: { "If-Match": `"other", ${v1.etag}` } })).status).toBe(
      201,
    );
  });

  it("creates only with If-None-Match: * (412 once a live version exists)", async () => {
    const key = `${freshNamespace()}/app`;
    expect((await publish(key, { a: 1 }, { headers: { "If-None-Match": "*" } })).status).toBe(201);
    const again = await publish(key, { a: 2 }, { headers: { "If-None-Match": "*" } });
    expect(again.status).toBe(412);
    // Identical bytes are still refused: the precondition is checked first.
    expect((await publish(key, { a: 1 }, { headers: { "If-None-Match": "*" } })).status).toBe(412);
  });

  it("allows If-None-Match: * again after a delete", async () => {
    const key = `${freshNamespace()}/app`;
    await publishOk(key, { a: 1 });
    expect((await call("DELETE", `/v1/configs/${key}`)).status).toBe(200);
    const res = await publish(key, { a: 2 }, { headers: { "If-None-Match": "*" } });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ version: 2 });
  });

  it.each(["abc", '"unterminated', 'W/"a", nope'])(
    "answers 400 for the malformed If-Match %s",
    async (tag) => {
      const key = `${freshNamespace()}/app`;
      const res = await publish(key, {}, { headers: { "If-Match": tag } });
      expect(res.status).toBe(400);
      expect((await problemOf(res)).code).toBe("invalid_request");
    },
  );
});

describe("PUT /v1/configs/{key} security", () => {
  it("answers 403 for a publish token of another namespace and stores nothing", async () => {
    const ns = freshNamespace();
    const token = await adminToken(`publish:other-${ns}`);
    const res = await publish(`${ns}/app`, {}, { token });
    expect(res.status).toBe(403);
    expect((await problemOf(res)).code).toBe("forbidden");
    expect((await call("GET", `/v1/configs/${ns}/app`)).status).toBe(404);
  });

  it("answers 403 for a read-only admin token", async () => {
    const ns = freshNamespace();
    const res = await publish(`${ns}/app`, {}, { token: await adminToken(`read:${ns}`) });
    expect(res.status).toBe(403);
  });

  it("lets a publish:{namespace} token publish there", async () => {
    const ns = freshNamespace();
    const res = await publish(`${ns}/app`, {}, { token: await adminToken(`read:x publish:${ns}`) });
    expect(res.status).toBe(201);
  });

  /**
   * A body that records how much of it was read: 256 chunks of 4 KiB (a 1 MiB JSON document),
   * pulled one at a time (highWaterMark 0) only as a reader asks for bytes. The runtime's request
   * pipe may buffer a chunk or two ahead of any reader, so "not read" is "not drained": a reader of
   * the body pulls every chunk, a request refused before its body is read pulls almost none.
   */
  const CHUNKS = 256;
  function recordingBody(): { body: ReadableStream<Uint8Array>; pulls: () => number } {
    const enc = new TextEncoder();
    let pulls = 0;
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          pulls++;
          if (pulls === 1) controller.enqueue(enc.encode(`{"a": 1${" ".repeat(4096 - 7)}`));
          else if (pulls < CHUNKS) controller.enqueue(enc.encode(" ".repeat(4096)));
          else if (pulls === CHUNKS) controller.enqueue(enc.encode(`${" ".repeat(4095)}}`));
          else controller.close();
        },
      },
      { highWaterMark: 0 },
    );
    return { body, pulls: () => pulls };
  }

  it("checks the token before reading a body: a 401 leaves the upload undrained", async () => {
    const upload = recordingBody();
    const res = await call("PUT", `/v1/configs/${freshNamespace()}/app`, {
      token: null,
      body: upload.body,
      headers: { "Content-Type": "application/json" },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toContain("Bearer");
    expect(upload.pulls()).toBeLessThan(8);
  });

  it("checks the scope before reading a body: a 403 leaves the upload undrained", async () => {
    const upload = recordingBody();
    const res = await call("PUT", `/v1/configs/${freshNamespace()}/app`, {
      token: await adminToken("publish:someone-else"),
      body: upload.body,
      headers: { "Content-Type": "application/json" },
    });
    expect(res.status).toBe(403);
    expect(upload.pulls()).toBeLessThan(8);
  });

  it("does read the same recording body once the token and scope allow it (the probe sees reads)", async () => {
    const upload = recordingBody();
    const res = await call("PUT", `/v1/configs/${freshNamespace()}/app`, {
      body: upload.body,
      headers: { "Content-Type": "application/json" },
    });
    expect(res.status).toBe(201);
    expect(upload.pulls()).toBeGreaterThanOrEqual(CHUNKS);
  });
});
