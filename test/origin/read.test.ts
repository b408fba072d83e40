import { describe, expect, it } from "vitest";
import { adminToken, call, freshNamespace, problemOf, publishOk } from "./support/origin";

interface HistoryBody {
  versions: {
    version: number;
    etag: string;
    digest: string;
    publishedAt: string;
    author: string;
    message: string | null;
  }[];
  next: string | null;
}

describe("GET /v1/configs/{key}", () => {
  it("answers the current version's exact bytes with ETag, Config-Version, digest and signature", async () => {
    const key = `${freshNamespace()}/app`;
    await publishOk(key, '{"a": 1}');
    const v2 = await publishOk(key, '{ "a" : 2.50 }');
    const res = await call("GET", `/v1/configs/${key}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{ "a" : 2.50 }');
    expect(res.headers.get("Content-Type")).toBe("application/json");
    expect(res.headers.get("ETag")).toBe(v2.etag);
    expect(res.headers.get("Config-Version")).toBe("2");
    expect(res.headers.get("Content-Digest")).toBe(v2.digest);
    expect(res.headers.get("Config-Signature")).toMatch(/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
  });

  it("returns 304 when If-None-Match matches (weak comparison)", async () => {
    const key = `${freshNamespace()}/app`;
    const v1 = await publishOk(key, { a: 1 });
    const res = await call("GET", `/v1/configs/${key}`, { headers: { "If-None-Match": `W/${v1.etag}` } });
    expect(res.status).toBe(304);
    expect(res.headers.get("ETag")).toBe(v1.etag);
    expect(await res.text()).toBe("");
    const stale = await call("GET", `/v1/configs/${key}`, { headers: { "If-None-Match": '"1-other"' } });
    expect(stale.status).toBe(200);
  });

  it("answers HEAD with the same headers and no body", async () => {
    const key = `${freshNamespace()}/app`;
    const v1 = await publishOk(key, { a: 1 });
    const res = await call("HEAD", `/v1/configs/${key}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("ETag")).toBe(v1.etag);
    expect(res.headers.get("Config-Version")).toBe("1");
    expect(await res.text()).toBe("");
  });

  it("answers 404 for a key never published", async () => {
    const res = await call("GET", `/v1/configs/${freshNamespace()}/nothing`);
    expect(res.status).toBe(404);
    expect((await problemOf(res)).detail).toContain("never published");
  });

  it("lets a read:{namespace} token read and refuses one for another namespace", async () => {
    const ns = freshNamespace();
    await publishOk(`${ns}/app`, {});
    expect(
      (await call("GET", `/v1/configs/${ns}/app`, { token: await adminToken(`read:${ns}`) })).status,
    ).toBe(200);
    const other = await call("GET", `/v1/configs/${ns}/app`, { token: await adminToken("read:elsewhere") });
    expect(other.status).toBe(403);
  });
});

describe("GET /v1/configs/{key}/-/versions", () => {
  it("lists versions newest first with their metadata", async () => {
    const key = `${freshNamespace()}/app`;
    for (const n of [1, 2, 3]) await publishOk(key, { n }, { headers: { "Config-Message": `change ${n}` } });
    const res = await call("GET", `/v1/configs/${key}/-/versions`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as HistoryBody;
    expect(body.versions.map((v) => v.version)).toEqual([3, 2, 1]);
    expect(body.versions[0]).toMatchObject({ author: "tester", message: "change 3" });
    expect(body.next).toBeNull();
  });

  it("pages with limit and an opaque cursor until next is null", async () => {
    const key = `${freshNamespace()}/app`;
    for (let n = 1; n <= 7; n++) await publishOk(key, { n });
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=3&cursor=${cursor}` : "?limit=3";
      const page = (await (await call("GET", `/v1/configs/${key}/-/versions${query}`)).json()) as HistoryBody;
      seen.push(...page.versions.map((v) => v.version));
      cursor = page.next;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(seen).toEqual([7, 6, 5, 4, 3, 2, 1]);
    expect(pages).toBe(3);
  });

  it.each(["0", "1001", "abc", "-1"])("answers 400 for limit=%s", async (limit) => {
    const key = `${freshNamespace()}/app`;
    await publishOk(key, {});
    const res = await call("GET", `/v1/configs/${key}/-/versions?limit=${limit}`);
    expect(res.status).toBe(400);
  });

  it("answers 400 for a cursor it did not issue", async () => {
    const key = `${freshNamespace()}/app`;
    await publishOk(key, {});
    for (const cursor of ["3", "bm9wZQ", "%%%"]) {
      const res = await call("GET", `/v1/configs/${key}/-/versions?cursor=${cursor}`);
      expect(res.status).toBe(400);
      expect((await problemOf(res)).code).toBe("invalid_request");
    }
  });

  it("answers 404 for a key never published", async () => {
    expect((await call("GET", `/v1/configs/${freshNamespace()}/app/versions`)).status).toBe(404);
  });
});

describe("GET /v1/configs/{key}/-/versions/{n}", () => {
  it("answers the version's record with its content spliced in byte for byte", async () => {
    const key = `${freshNamespace()}/app`;
    const v1 = await publishOk(key, '{"n": 1.0, "big": 12345678901234567890}', {
      headers: { "Config-Message": "first" },
    });
    await publishOk(key, { n: 2 });
    const res = await call("GET", `/v1/configs/${key}/-/versions/1`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.endsWith(',"content":{"n": 1.0, "big": 12345678901234567890}}')).toBe(true);
    const record = JSON.parse(text) as Record<string, unknown>;
    expect(record).toMatchObject({
      key,
      version: 1,
      etag: v1.etag,
      digest: v1.digest,
      author: "tester",
      message: "first",
      current: false,
    });
    expect(typeof record.signature).toBe("string");
  });

  it("answers 404 for a version that does not exist and 400 for version 0", async () => {
    const key = `${freshNamespace()}/app`;
    await publishOk(key, {});
    expect((await call("GET", `/v1/configs/${key}/-/versions/2`)).status).toBe(404);
    const zero = await call("GET", `/v1/configs/${key}/-/versions/0`);
    expect(zero.status).toBe(400);
    expect((await problemOf(zero)).code).toBe("invalid_version");
  });
});
