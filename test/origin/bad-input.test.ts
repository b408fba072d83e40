/**
 * Bad input on every admin route: malformed, truncated or trailing-garbage JSON, invalid UTF-8,
 * nesting past 64, duplicate member names, oversized bodies with and without Content-Length,
 * invalid keys and namespaces, bad preconditions, non-numeric versions, rollbacks to missing
 * versions and unknown members. Each must answer 4xx problem+json (RFC 9457 §3: type, title,
 * status, detail) and leave the namespace's SQLite rows and KV records exactly as they were.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stateOf } from "./reliability-support";
import { call, freshNamespace, originEnv, publishOk } from "./support/origin";

const ns = freshNamespace("bad");
const key = `${ns}/app`;
let staleEtag = "";
const enc = new TextEncoder();

interface BadRequest {
  name: string;
  method: string;
  path: string;
  /** A fresh body per send (streams are single use). */
  body?: () => BodyInit;
  headers?: Record<string, string>;
  /** The status, or the statuses the API may choose between (check order is not part of it). */
  status: number | number[];
}

const json = (text: string) => () => text;
const bytes = (values: number[]) => () => new Uint8Array(values);
const nested = (depth: number) => () => `${"[".repeat(depth)}${"]".repeat(depth)}`;

/** A body streamed in 64 KiB chunks with no Content-Length, `total` bytes of valid JSON padding. */
function streamed(total: number): () => BodyInit {
  return () => {
    const chunk = enc.encode(" ".repeat(64 * 1024));
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
  };
}

const LIMIT = Number(originEnv.MAX_CONFIG_BYTES);
const put = (name: string, body: () => BodyInit, status = 400, headers: Record<string, string> = {}) =>
  ({ name: `PUT ${name}`, method: "PUT", path: `/v1/configs/${key}`, body, headers, status }) as BadRequest;
const badKey = (name: string, raw: string): BadRequest => ({
  name: `PUT to a key with ${name}`,
  method: "PUT",
  path: `/v1/configs/${raw}`,
  body: json('{"a":1}'),
  status: 400,
});
const rollback = (name: string, body: () => BodyInit, status = 400, headers: Record<string, string> = {}) =>
  ({
    name: `rollback with ${name}`,
    method: "POST",
    path: `/v1/configs/${key}/-/rollback`,
    body,
    headers,
    status,
  }) as BadRequest;
const settings = (name: string, body: () => BodyInit, status = 400, path = `/v1/namespaces/${ns}`) =>
  ({ name: `namespace settings with ${name}`, method: "PUT", path, body, status }) as BadRequest;
const mint = (name: string, body: () => BodyInit, status = 400) =>
  ({ name: `token mint with ${name}`, method: "POST", path: "/v1/tokens", body, status }) as BadRequest;
const get = (name: string, path: string, status = 400) =>
  ({ name: `GET ${name}`, method: "GET", path, status }) as BadRequest;

function cases(): BadRequest[] {
  return [
    // Config content (DESIGN §2, docs/decisions.md "Content rules").
    put("malformed JSON", json("{nope")),
    put("truncated JSON", json('{"a": [1, 2')),
    put("a truncated string", json('{"a": "x')),
    put("trailing garbage", json('{"a": 1} x')),
    put("two documents", json('{"a": 1}{"b": 2}')),
    put("a trailing NUL", json('{"a": 1}\u0000')),
    put("an empty body", json("")),
    put("only whitespace", json(" \n\t ")),
    put("invalid UTF-8 (0xFF)", bytes([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])),
    put("overlong UTF-8 for '/'", bytes([0x22, 0xc0, 0xaf, 0x22])),
    put("a UTF-8-encoded surrogate", bytes([0x22, 0xed, 0xa0, 0x80, 0x22])),
    put("UTF-8 cut mid-character", bytes([0x22, 0xe2, 0x82, 0x22])),
    put("a byte order mark", bytes([0xef, 0xbb, 0xbf, 0x7b, 0x7d])),
    put("UTF-16 JSON", () => new Uint8Array([0x7b, 0x00, 0x7d, 0x00])),
    put("nesting 65 deep", nested(65)),
    put("objects nested 65 deep", () => `${'{"a":'.repeat(65)}1${"}".repeat(65)}`),
    put("nesting 100000 deep", nested(100_000)),
    put("a duplicate member name", json('{"a": 1, "a": 2}')),
    put("a nested duplicate", json('{"x": {"a": 1, "b": 0, "a": 1}}')),
    put("a duplicate spelled with an escape", json('{"a": 1, "\\u0061": 2}')),
    put("NaN", json('{"a": NaN}')),
    put("Infinity", json("[Infinity]")),
    put("single quotes", json("{'a': 1}")),
    put("a comment", json('{"a": 1 /* c */}')),
    put("a trailing comma", json("[1, 2,]")),
    put("a leading zero", json('{"a": 012}')),
    put("a hex number", json("[0x10]")),
    put("a raw control character in a string", json('{"a": "x\ny"}')),
    put("a bad escape", json('{"a": "\\x41"}')),
    put("a short \\u escape", json('{"a": "\\u12"}')),
    put("a bare minus", json("[-]")),
    put("an unquoted member name", json("{a: 1}")),
    put("a body over MAX_CONFIG_BYTES with Content-Length", () => `"${"x".repeat(LIMIT)}"`, 413),
    put("a streamed body over MAX_CONFIG_BYTES without Content-Length", streamed(LIMIT + 128 * 1024), 413),
    put("Content-Type text/plain", json('{"a": 1}'), 415, { "Content-Type": "text/plain" }),
    put("a latin-1 charset", json('{"a": 1}'), 415, { "Content-Type": "application/json; charset=latin1" }),
    // Preconditions and headers.
    put("an unquoted If-Match", json('{"a": 3}'), 400, { "If-Match": "abc" }),
    put("an unterminated If-Match", json('{"a": 3}'), 400, { "If-Match": '"abc' }),
    put("a stale If-Match", json('{"a": 3}'), 412, { "If-Match": "STALE" }),
    put("If-None-Match: * on a live key", json('{"a": 3}'), 412, { "If-None-Match": "*" }),
    put("a malformed If-None-Match", json('{"a": 3}'), 400, { "If-None-Match": "nope" }),
    put("a control character in Config-Message", json('{"a": 3}'), 400, { "Config-Message": "a\u0007b" }),
    put("a Config-Message over 1000 characters", json('{"a": 3}'), 400, {
      "Config-Message": "m".repeat(1001),
    }),
    // Keys (DESIGN §2). Literal `.`/`..` segments never reach the worker: URL parsing resolves them
    // first (test/e2e/races.test.ts shows it over raw HTTP), so they are checked there.
    badKey("an upper-case letter", `${ns}/App`),
    badKey("an upper-case namespace", `${ns.toUpperCase()}/app`),
    badKey("a non-ASCII letter", `${ns}/caf%C3%A9`),
    badKey("a segment starting with a dot", `${ns}/.hidden`),
    badKey("a segment starting with a dash", `${ns}/-x`),
    badKey("an encoded slash", `${ns}/a%2Fb`),
    badKey("an encoded dot-dot inside a segment", `${ns}/a%2E%2E`),
    badKey("a space", `${ns}/a%20b`),
    badKey("an encoded NUL", `${ns}/a%00b`),
    badKey("one segment", ns),
    badKey("five segments", `${ns}/a/b/c/d`),
    badKey("an empty segment", `${ns}//app`),
    badKey("a trailing slash", `${ns}/app/`),
    badKey("a 65-character segment", `${ns}/${"a".repeat(65)}`),
    badKey("a 65-character namespace", `${"n".repeat(65)}/app`),
    // History and versions.
    get("version 0", `/v1/configs/${key}/-/versions/0`),
    get("a 20-digit version", `/v1/configs/${key}/-/versions/99999999999999999999`),
    get("a version that does not exist", `/v1/configs/${key}/-/versions/99`, 404),
    get("a non-numeric version", `/v1/configs/${key}/-/versions/abc`),
    get("limit=0", `/v1/configs/${key}/-/versions?limit=0`),
    get("limit=abc", `/v1/configs/${key}/-/versions?limit=abc`),
    get("limit=-1", `/v1/configs/${key}/-/versions?limit=-1`),
    get("limit over 1000", `/v1/configs/${key}/-/versions?limit=1001`),
    get("a forged cursor", `/v1/configs/${key}/-/versions?cursor=${btoa("before:0")}`),
    get("a garbage cursor", `/v1/configs/${key}/-/versions?cursor=%%%`),
    // Rollback.
    rollback("a version that does not exist", json('{"to": 99}'), 404),
    rollback("a string version", json('{"to": "1"}')),
    rollback("a fractional version", json('{"to": 1.5}')),
    rollback("version 0", json('{"to": 0}')),
    rollback("a negative version", json('{"to": -1}')),
    rollback("an unsafe integer", json('{"to": 9007199254740993}')),
    rollback("1e400", json('{"to": 1e400}')),
    rollback("no to", json("{}")),
    rollback("an unknown member", json('{"to": 1, "force": true}')),
    rollback("an array body", json("[1]")),
    rollback("a null body", json("null")),
    rollback("a duplicate to", json('{"to": 1, "to": 2}')),
    rollback("malformed JSON", json('{"to": ')),
    rollback("a body over 16 KiB", () => `{"to": 1${" ".repeat(17 * 1024)}}`, 413),
    rollback("a streamed body over 16 KiB", streamed(64 * 1024), 413),
    rollback("text/plain", json('{"to": 1}'), 415, { "Content-Type": "text/plain" }),
    rollback("a malformed If-Match", json('{"to": 1}'), 400, { "If-Match": "v1" }),
    rollback("a stale If-Match", json('{"to": 1}'), 412, { "If-Match": "STALE" }),
    {
      name: "rollback of a key never published",
      method: "POST",
      path: `/v1/configs/${ns}/never/-/rollback`,
      body: json('{"to": 1}'),
      status: 404,
    },
    {
      name: "POST to a config itself",
      method: "POST",
      path: `/v1/configs/${key}`,
      body: json("{}"),
      status: 405,
    },
    // Delete.
    {
      name: "DELETE of a key never published",
      method: "DELETE",
      path: `/v1/configs/${ns}/never`,
      status: 404,
    },
    {
      name: "DELETE with a stale If-Match",
      method: "DELETE",
      path: `/v1/configs/${key}`,
      headers: { "If-Match": "STALE" },
      status: 412,
    },
    {
      name: "DELETE with a malformed If-Match",
      method: "DELETE",
      path: `/v1/configs/${key}`,
      headers: { "If-Match": "x" },
      status: 400,
    },
    // Namespace settings.
    settings("an unknown visibility", json('{"visibility": "secret"}')),
    settings("a null visibility", json('{"visibility": null}')),
    settings("a negative maxAge", json('{"maxAge": -1}')),
    settings("a fractional maxAge", json('{"maxAge": 1.5}')),
    settings("a string maxAge", json('{"maxAge": "5"}')),
    settings("a maxAge over a year", json('{"maxAge": 31536001}')),
    settings("a misspelt member", json('{"maxage": 5}')),
    settings("an array", json('["public"]')),
    settings("duplicate members", json('{"visibility": "public", "visibility": "private"}')),
    settings("malformed JSON", json('{"visibility": "public"')),
    settings("a streamed body over 16 KiB", streamed(64 * 1024), 413),
    settings(
      "an upper-case namespace",
      json('{"visibility": "public"}'),
      400,
      `/v1/namespaces/${ns.toUpperCase()}`,
    ),
    settings("a 65-character namespace", json("{}"), 400, `/v1/namespaces/${"n".repeat(65)}`),
    // Read tokens.
    mint("an upper-case namespace", json(`{"scope": "read:${ns.toUpperCase()}"}`)),
    mint("a publish scope", json(`{"scope": "publish:${ns}"}`)),
    mint("the admin scope", json('{"scope": "admin"}')),
    mint("two scopes", json(`{"scope": "read:${ns} read:other"}`)),
    mint("an empty namespace", json('{"scope": "read:"}')),
    mint("read:..", json('{"scope": "read:.."}')),
    mint("a ttl under a minute", json(`{"scope": "read:${ns}", "ttl": 10}`)),
    mint("a ttl over a year", json(`{"scope": "read:${ns}", "ttl": 100000000}`)),
    mint("a string ttl", json(`{"scope": "read:${ns}", "ttl": "60"}`)),
    mint("an unknown member", json(`{"scope": "read:${ns}", "aud": "fleetconf-admin"}`)),
    mint("no scope", json("{}")),
    mint("a non-object", json(`"read:${ns}"`)),
    // Staged rollouts (docs/api.md "Staged rollouts").
    put("a malformed Config-Rollout", json('{"a": 3}'), 400, { "Config-Rollout": "fast" }),
    put("a Config-Rollout over 100", json('{"a": 3}'), 400, { "Config-Rollout": "101" }),
    put("a linear Config-Rollout without step", json('{"a": 3}'), 400, {
      "Config-Rollout": "linear; start=10; every=60",
    }),
    {
      name: "PATCH rollout with a percent over 100",
      method: "PATCH",
      path: `/v1/configs/${key}/-/rollout`,
      body: json('{"percent": 101}'),
      // 400 from the body's validator, before the store could answer 409 (no rollout runs).
      status: 400,
    },
    {
      name: "PATCH rollout with three decimals",
      method: "PATCH",
      path: `/v1/configs/${key}/-/rollout`,
      body: json('{"percent": 1.234}'),
      // 400 from the body's validator, before the store could answer 409 (no rollout runs).
      status: 400,
    },
    {
      name: "PATCH rollout with an unknown member",
      method: "PATCH",
      path: `/v1/configs/${key}/-/rollout`,
      body: json('{"percent": 50, "force": true}'),
      // 400 from the body's validator, before the store could answer 409 (no rollout runs).
      status: 400,
    },
    {
      name: "rollout complete with none running",
      method: "POST",
      path: `/v1/configs/${key}/-/rollout/complete`,
      status: 409,
    },
    {
      name: "rollout abort with none running",
      method: "POST",
      path: `/v1/configs/${key}/-/rollout/abort`,
      status: 409,
    },
    // Diff, fleet view, status.
    get("a diff without from", `/v1/configs/${key}/-/diff?to=current`),
    get("a diff from version abc", `/v1/configs/${key}/-/diff?from=abc&to=current`),
    get("a diff from a missing version", `/v1/configs/${key}/-/diff?from=99&to=current`, 404),
    get("the fleet view with window=0", `/v1/configs/${key}/-/fleet?window=0`),
    get("the fleet view with window=abc", `/v1/configs/${key}/-/fleet?window=abc`),
    get("the status of an upper-case namespace", `/v1/status?namespace=${ns.toUpperCase()}`),
    // Schemas (docs/api.md "Schemas").
    ...(
      [
        ["malformed JSON", json('{"type": '), 400],
        ["a duplicate member", json('{"type": "object", "type": "string"}'), 400],
        ["a number", json("42"), 400],
        ["another dialect", json('{"$schema": "http://json-schema.org/draft-04/schema#"}'), 400],
        ["an unresolvable $ref", json('{"$ref": "#/$defs/missing"}'), 400],
        ["a schema the live version breaks", json('{"type": "string"}'), 422],
        ["a body over 256 KiB", () => `{"description": "${"d".repeat(300 * 1024)}"}`, 413],
        ["a streamed body over 256 KiB", streamed(512 * 1024), 413],
      ] as const
    ).map(
      ([name, body, status]): BadRequest => ({
        name: `PUT a schema with ${name}`,
        method: "PUT",
        path: `/v1/schemas/${key}`,
        body,
        status,
      }),
    ),
    {
      name: "PUT a schema as text/plain",
      method: "PUT",
      path: `/v1/schemas/${key}`,
      body: json('{"type": "object"}'),
      headers: { "Content-Type": "text/plain" },
      status: 415,
    },
    {
      name: "DELETE a schema that does not exist",
      method: "DELETE",
      path: `/v1/schemas/${key}`,
      status: 404,
    },
    // The edge's internal sightings route on the origin (authenticated by the purge secret).
    {
      name: "fleet sightings without the internal secret",
      method: "POST",
      path: "/internal/fleet",
      body: json('{"sightings": []}'),
      status: 401,
    },
    {
      name: "fleet sightings with a wrong internal secret",
      method: "POST",
      path: "/internal/fleet",
      body: json('{"sightings": []}'),
      headers: { "Fleetconf-Purge-Secret": "nope" },
      status: 401,
    },
    {
      name: "malformed fleet sightings",
      method: "POST",
      path: "/internal/fleet",
      body: json('{"sightings": [{"key": "A/B"}]}'),
      headers: { "Fleetconf-Purge-Secret": "PURGE_SECRET" },
      status: 400,
    },
    // Audit.
    get("the audit of an upper-case namespace", `/v1/audit?namespace=${ns.toUpperCase()}`),
    get("the audit with a bad since", `/v1/audit?namespace=${ns}&since=yesterday`),
    get("the audit with limit=0", `/v1/audit?namespace=${ns}&limit=0`),
    get("the audit with a garbage cursor", `/v1/audit?namespace=${ns}&cursor=zz`),
    get("the audit of an invalid key", `/v1/audit?key=${ns}/App`),
    get("the audit of a key outside the namespace", `/v1/audit?key=${key}&namespace=other`),
  ];
}

beforeAll(async () => {
  staleEtag = (await publishOk(key, { v: 1 })).etag;
  await publishOk(key, { v: 2 });
  const res = await call("PUT", `/v1/namespaces/${ns}`, { json: { visibility: "public" } });
  expect(res.status).toBe(200);
});

let tried = 0;
afterAll(() => {
  console.log(JSON.stringify({ suite: "bad-input (origin)", tried }));
});

describe("every admin route refuses bad input with problem+json and changes nothing", {
  timeout: 60_000,
}, () => {
  it.each(cases())("$name → $status", async (bad) => {
    const before = await stateOf(ns);
    const headers: Record<string, string> = { ...bad.headers };
    if (bad.body && !("Content-Type" in headers)) headers["Content-Type"] = "application/json";
    if (headers["If-Match"] === "STALE") headers["If-Match"] = staleEtag;
    if (headers["Fleetconf-Purge-Secret"] === "PURGE_SECRET") {
      headers["Fleetconf-Purge-Secret"] = originEnv.PURGE_SECRET;
    }
    const res = await call(bad.method, bad.path, {
      headers,
      ...(bad.body ? { body: bad.body() } : {}),
    });
    tried++;
    expect(([] as number[]).concat(bad.status)).toContain(res.status);
    expect(res.headers.get("Content-Type")).toBe("application/problem+json");
    const problem = (await res.json()) as Record<string, unknown>;
    expect(problem).toMatchObject({ status: res.status });
    expect(problem.type).toMatch(/^https:\/\/fleetconf\.dev\/problems\/[a-z-]+$/);
    expect(typeof problem.title).toBe("string");
    expect(typeof problem.detail).toBe("string");
    expect(await stateOf(ns)).toEqual(before);
  });
});
