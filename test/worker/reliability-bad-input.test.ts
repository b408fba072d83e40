/**
 * Bad input on every edge route: invalid keys, versions and client ids on the read API, wrong
 * methods, and on the internal purge route wrong secrets, malformed or oversized bodies (with and
 * without Content-Length), invalid entries and unknown members. Each answers 4xx problem+json
 * (RFC 9457 §3) and changes nothing: a refused purge leaves the cached version in place.
 */
import { afterAll, describe, expect, it } from "vitest";
import { publishFixture, putNamespaceSettings, uniqueNamespace } from "../support/snapshot-fixture";
import { edge, env } from "./harness";

let tried = 0;
afterAll(() => {
  console.log(JSON.stringify({ suite: "bad-input (edge)", tried }));
});

async function expectProblem(res: Response, status: number): Promise<Record<string, unknown>> {
  tried++;
  expect(res.status).toBe(status);
  expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  const problem = (await res.json()) as Record<string, unknown>;
  expect(problem).toMatchObject({ status });
  expect(problem.type).toMatch(/^https:\/\/fleetconf\.dev\/problems\/[a-z-]+$/);
  expect(typeof problem.title).toBe("string");
  expect(typeof problem.detail).toBe("string");
  return problem;
}

const ns = uniqueNamespace("badedge");
const key = `${ns}/svc/conf`;

describe("the read API refuses malformed requests", { timeout: 30_000 }, () => {
  it.each([
    ["an upper-case letter", `${ns}/Svc`],
    ["a non-ASCII letter", `${ns}/caf%C3%A9`],
    ["a segment starting with a dot", `${ns}/.env`],
    ["an encoded slash", `${ns}/a%2Fb`],
    ["an encoded dot-dot inside a segment", `${ns}/x%2E%2E`],
    ["an encoded NUL", `${ns}/a%00`],
    ["one segment", ns],
    ["five segments", `${ns}/a/b/c/d`],
    ["an empty segment", `${ns}//conf`],
    ["a trailing slash", `${ns}/svc/`],
    ["a 65-character segment", `${ns}/${"s".repeat(65)}`],
    ["nothing", ""],
  ])("answers 400 invalid_key for a key with %s", async (_, raw) => {
    const problem = await expectProblem(await edge().fetch(`/v1/configs/${raw}`), 400);
    expect(problem.code).toBe("invalid_key");
  });

  it.each([
    ["abc", "version=abc"],
    ["0", "version=0"],
    ["-1", "version=-1"],
    ["1.5", "version=1.5"],
    ["empty", "version="],
    ["20 digits", "version=99999999999999999999"],
    ["given twice", "version=1&version=1"],
    ["hex", "version=0x1"],
  ])("answers 400 invalid_version for ?version= %s", async (_, query) => {
    await putNamespaceSettings(env, ns, { visibility: "public" });
    const problem = await expectProblem(await edge().fetch(`/v1/configs/${key}?${query}`), 400);
    expect(problem.code).toBe("invalid_version");
  });

  it.each([
    ["129 characters", "c".repeat(129)],
    ["a space", "client 1"],
    ["a slash", "client/1"],
    ["empty", ""],
  ])("answers 400 for a Config-Client-Id with %s", async (_, id) => {
    await putNamespaceSettings(env, ns, { visibility: "public" });
    await expectProblem(
      await edge().fetch(`/v1/configs/${key}`, { headers: { "Config-Client-Id": id } }),
      400,
    );
  });

  it.each(["PUT", "POST", "DELETE", "PATCH"])("answers 405 with Allow for %s on a config", async (method) => {
    const res = await edge().fetch(`/v1/configs/${key}`, { method, body: method === "DELETE" ? null : "{}" });
    await expectProblem(res, 405);
    expect(res.headers.get("Allow")).toBe("GET, HEAD");
  });

  it("answers 404 problem+json for a version never published and for an unknown path", async () => {
    await putNamespaceSettings(env, ns, { visibility: "public" });
    await publishFixture(env, { key, content: { ok: true } });
    await expectProblem(await edge().fetch(`/v1/configs/${key}?version=7`), 404);
    await expectProblem(await edge().fetch("/v1/config"), 404);
    await expectProblem(await edge().fetch("/v2/configs/a/b"), 404);
  });
});

/** A public key cached at version 1 in a fresh isolate, with version 2 already in KV. */
async function cachedThenChanged() {
  const namespace = uniqueNamespace("badpurge");
  await putNamespaceSettings(env, namespace, { visibility: "public" });
  const cachedKey = `${namespace}/svc/conf`;
  await publishFixture(env, { key: cachedKey, content: { v: 1 } });
  const app = edge();
  expect(await (await app.fetch(`/v1/configs/${cachedKey}`)).json()).toEqual({ v: 1 });
  await publishFixture(env, { key: cachedKey, version: 2, content: { v: 2 } });
  return { app, cachedKey, namespace };
}

function purge(body: BodyInit, secret: string | null = env.PURGE_SECRET, extra: Record<string, string> = {}) {
  const headers: Record<string, string> = { "Content-Type": "application/json", ...extra };
  if (secret !== null) headers["Fleetconf-Purge-Secret"] = secret;
  return { method: "POST", headers, body } satisfies RequestInit;
}

function streamedBody(total: number): ReadableStream<Uint8Array> {
  const chunk = new TextEncoder().encode(" ".repeat(32 * 1024));
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) controller.close();
      else {
        sent += chunk.length;
        controller.enqueue(chunk);
      }
    },
  });
}

describe("the purge route refuses bad requests and then purges nothing", { timeout: 30_000 }, () => {
  it.each([
    ["a missing secret", null],
    ["a wrong secret of the same length", "x".repeat(env.PURGE_SECRET.length)],
    ["the secret in upper case", env.PURGE_SECRET.toUpperCase()],
    ["a prefix of the secret", env.PURGE_SECRET.slice(0, -1)],
  ])("answers 401 for %s", async (_, secret) => {
    const { app, cachedKey } = await cachedThenChanged();
    await expectProblem(
      await app.fetch("/internal/purge", purge(JSON.stringify({ keys: [cachedKey] }), secret)),
      401,
    );
    expect(await (await app.fetch(`/v1/configs/${cachedKey}`)).json()).toEqual({ v: 1 });
  });

  it.each([
    ["malformed JSON", (k: string) => `{"keys": ["${k}"]`, 400],
    ["trailing garbage", (k: string) => `{"keys": ["${k}"]} x`, 400],
    ["a duplicate member", (k: string) => `{"keys": ["${k}"], "keys": []}`, 400],
    ["an unknown member", (k: string) => `{"keys": ["${k}"], "everything": true}`, 400],
    ["a null body", () => "null", 400],
    ["keys as a string", (k: string) => `{"keys": "${k}"}`, 400],
    ["one invalid key among valid ones", (k: string) => `{"keys": ["${k}", "A/B"]}`, 400],
    ["a dot-dot key", (k: string) => `{"keys": ["${k}", "a/../b"]}`, 400],
    ["invalid UTF-8", () => new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), 400],
    ["a body over 256 KiB", (k: string) => `{"keys": ["${k}"]${" ".repeat(300 * 1024)}}`, 413],
  ] as const)("refuses %s", async (_, body, status) => {
    const { app, cachedKey } = await cachedThenChanged();
    await expectProblem(await app.fetch("/internal/purge", purge(body(cachedKey))), status);
    expect(await (await app.fetch(`/v1/configs/${cachedKey}`)).json()).toEqual({ v: 1 });
  });

  it("answers 413 for a streamed body over 256 KiB without Content-Length", async () => {
    const { app, cachedKey } = await cachedThenChanged();
    await expectProblem(await app.fetch("/internal/purge", purge(streamedBody(512 * 1024))), 413);
    expect(await (await app.fetch(`/v1/configs/${cachedKey}`)).json()).toEqual({ v: 1 });
  });

  it("still purges for a well-formed request afterwards", async () => {
    const { app, cachedKey } = await cachedThenChanged();
    const res = await app.fetch("/internal/purge", purge(JSON.stringify({ keys: [cachedKey] })));
    expect(res.status).toBe(200);
    expect(await (await app.fetch(`/v1/configs/${cachedKey}`)).json()).toEqual({ v: 2 });
  });
});
