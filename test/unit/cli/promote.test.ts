/**
 * `fleetconf promote SRC@N DST` run in-process (cli/main.ts) against the real origin and edge in
 * workerd (support/real-origin.ts): DST gets SRC@N's exact bytes under DST's own schema and
 * If-Match, the history names the source, a change to DST between read and write is a 412 that
 * publishes nothing, a dry run changes nothing, bad arguments are refused before any request, and
 * a 202 change request (a namespace needing approval) is reported, not taken for a failure.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { splicedContent } from "../../../cli/version-bytes";
import { uniqueNamespace } from "../../support/names";
import { type RealOrigin, startRealOrigin } from "./support/real-origin";
import { type CliRun, runCli } from "./support/run-cli";

let origin: RealOrigin;

beforeAll(async () => {
  origin = await startRealOrigin();
}, 60_000);

afterAll(async () => {
  await origin?.dispose();
});

// Formatting and a `1.0` that re-serialising would lose: promote must carry these bytes exactly.
const STAGED = '{\n  "rps": 12.0,\n  "regions": ["eu", "us"]\n}\n';
const PROD = { rps: 10, regions: ["eu"] };

interface Pair {
  src: string;
  dst: string;
}

async function publishOk(key: string, doc: unknown): Promise<void> {
  const res = await origin.call("PUT", `/v1/configs/${key}`, {
    body: typeof doc === "string" ? doc : JSON.stringify(doc),
    headers: { "Content-Type": "application/json" },
  });
  expect([200, 201], await res.clone().text()).toContain(res.status);
}

/** A staging key with two versions (v1 = STAGED) and a prod key at v1 = PROD. */
async function pair(): Promise<Pair> {
  const src = `${uniqueNamespace("stg")}/web/flags`;
  const dst = `${uniqueNamespace("prd")}/web/flags`;
  await publishOk(src, STAGED);
  await publishOk(src, { rps: 1 });
  await publishOk(dst, PROD);
  return { src, dst };
}

type Fetch = typeof fetch;

async function promote(args: string[], fetcher: Fetch = fetch): Promise<CliRun> {
  return runCli(["promote", ...args], {
    env: { FLEETCONF_ORIGIN: origin.url, FLEETCONF_TOKEN: await origin.adminToken("admin", "release-bot") },
    fetch: fetcher,
  });
}

async function current(key: string): Promise<{ version: string | null; text: string }> {
  const res = await origin.call("GET", `/v1/configs/${key}`);
  return { version: res.headers.get("Config-Version"), text: await res.text() };
}

async function versionOf(key: string, n: number): Promise<{ digest: string; message: string | null }> {
  const res = await origin.call("GET", `/v1/configs/${key}/-/versions/${n}`);
  expect(res.status).toBe(200);
  return (await res.json()) as { digest: string; message: string | null };
}

async function rolloutOf(key: string): Promise<unknown> {
  return (await origin.call("GET", `/v1/configs/${key}/-/rollout`)).json();
}

describe("fleetconf promote against the real origin", () => {
  it("publishes SRC@N's exact bytes as DST's next version, and the history names the source and its digest", async () => {
    const { src, dst } = await pair();
    const run = await promote([`${src}@1`, dst, "-m", "CHG-1234"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`promoted ${src}@1 to ${dst} v2`);
    expect(await current(dst)).toEqual({ version: "2", text: STAGED });
    const source = await versionOf(src, 1);
    const promoted = await versionOf(dst, 2);
    expect(promoted.digest).toBe(source.digest);
    expect(promoted.message).toBe(`promote ${src}@1 (${source.digest}): CHG-1234`);
  });

  it("says already promoted, exit 0, and publishes nothing when DST already has SRC@N's content", async () => {
    const { src, dst } = await pair();
    expect((await promote([`${src}@1`, dst])).code).toBe(0);
    const again = await promote([`${src}@1`, dst, "--json"]);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ key: dst, promoted: false, version: 2 });
    expect((await current(dst)).version).toBe("2");
  });

  it("promotes SRC's current version with @live or no version", async () => {
    const { src, dst } = await pair();
    const run = await promote([src, dst, "--json"]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ key: dst, version: 2, source: { key: src, version: 2 } });
    expect(JSON.parse((await current(dst)).text)).toEqual({ rps: 1 });
    expect((await promote([`${src}@live`, dst])).stdout).toContain("already promoted");
  });

  it("prints DST's schema violation with where it broke, exit 1, and publishes nothing", async () => {
    const { src, dst } = await pair();
    const schema = { type: "object", properties: { rps: { type: "integer", minimum: 10 } } };
    const put = await origin.call("PUT", `/v1/schemas/${dst}`, {
      body: JSON.stringify(schema),
      headers: { "Content-Type": "application/schema+json" },
    });
    expect(put.status).toBe(201);
    const run = await promote([`${src}@2`, dst]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("422");
    expect(run.stderr).toContain("/rps");
    expect((await current(dst)).version).toBe("1");
    // 12.0 is an integer ≥ 10 to JSON Schema: the staged v1 passes the same schema.
    expect((await promote([`${src}@1`, dst])).code).toBe(0);
  });

  it("fails with 412 and publishes nothing when DST changes between the read and the write", async () => {
    const { src, dst } = await pair();
    let raced = false;
    // Someone publishes to DST right after the CLI read its ETag.
    const racing: Fetch = async (input, init) => {
      const res = await fetch(input, init);
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (!raced && (init?.method ?? "GET") === "GET" && url.pathname === `/v1/configs/${dst}`) {
        raced = true;
        await publishOk(dst, { rps: 99 });
      }
      return res;
    };
    const run = await promote([`${src}@1`, dst], racing);
    expect(raced).toBe(true);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${dst} changed after it was read: nothing was published (412)`);
    expect(run.stderr).toContain(`re-run \`fleetconf promote ${src}@1 ${dst} --dry-run\``);
    expect(await current(dst)).toEqual({ version: "2", text: JSON.stringify({ rps: 99 }) });
  });

  it("fails with 412 for a stale --if-match and says which ETag", async () => {
    const { src, dst } = await pair();
    const run = await promote([`${src}@1`, dst, "--if-match", '"1-stale"']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${dst}'s current ETag is no longer "1-stale"`);
    expect((await current(dst)).version).toBe("1");
  });

  it("refuses a DST with no current version unless --create, which creates it (If-None-Match: *)", async () => {
    const { src } = await pair();
    const dst = `${uniqueNamespace("prd")}/web/flags`;
    const refused = await promote([`${src}@1`, dst]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${dst} has no current version to promote over`);
    expect(refused.stderr).toContain("add --create");
    const created = await promote([`${src}@1`, dst, "--create"]);
    expect(created.code, created.stderr).toBe(0);
    expect(await current(dst)).toEqual({ version: "1", text: STAGED });
    const again = await promote([`${src}@2`, dst, "--create"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("--create only creates a key");
  });

  it("shows the diff of DST's current version to SRC@N with --dry-run and changes nothing", async () => {
    const { src, dst } = await pair();
    const human = await promote([`${src}@1`, dst, "--dry-run", "--no-color"]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain(`${dst} v1 → ${src}@1: 1 added, 0 removed, 1 changed`);
    expect(human.stdout).toContain("~ /rps: 10 → 12");
    expect(human.stdout).toContain('+ /regions/1: "us"');
    expect(human.stdout).toContain("dry run: nothing was published");
    const json = await promote([`${src}@1`, dst, "--dry-run", "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      dryRun: true,
      patch: [
        { op: "replace", path: "/rps", value: 12 },
        { op: "add", path: "/regions/1", value: "us" },
      ],
    });
    expect((await current(dst)).version).toBe("1");
  });

  it("starts a gated rollout of the promoted version in DST with --rollout", async () => {
    const { src, dst } = await pair();
    const run = await promote([`${src}@1`, dst, "--rollout", "30; max-rejected=10", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ key: dst, version: 2, rollout: { state: "running" } });
    const rollout = await rolloutOf(dst);
    expect(rollout).toMatchObject({ state: "running", candidate: { version: 2 }, stable: { version: 1 } });
  });

  it.each([
    ["the same key twice", (p: Pair) => [`${p.src}@1`, p.src], "same key"],
    ["version 0", (p: Pair) => [`${p.src}@0`, p.dst], "positive integer"],
    ["an empty version", (p: Pair) => [`${p.src}@`, p.dst], "positive integer"],
    ["an invalid DST", (p: Pair) => [`${p.src}@1`, "Prod/Flags"], "invalid key"],
    ["a malformed --rollout", (p: Pair) => [`${p.src}@1`, p.dst, "--rollout", "lots"], "--rollout"],
    [
      "--if-match with --create",
      (p: Pair) => [`${p.src}@1`, p.dst, "--if-match", '"1-x"', "--create"],
      "exclude",
    ],
  ])("refuses %s (exit 2) before any request", async (_what, args, message) => {
    const p = await pair();
    let requests = 0;
    const counting: Fetch = (input, init) => {
      requests++;
      return fetch(input, init);
    };
    const run = await promote(args(p), counting);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(requests).toBe(0);
  });
});

describe("a write answered 202 Accepted: a change request (a namespace whose writes need approval)", () => {
  it("says a change request was created, exit 0, publishes nothing, and the approved request publishes SRC@N's exact bytes", async () => {
    const { src, dst } = await pair();
    const namespace = dst.split("/")[0];
    const set = await origin.call("PUT", `/v1/namespaces/${namespace}`, {
      body: JSON.stringify({ approval: "required" }),
      headers: { "Content-Type": "application/json" },
    });
    expect(set.status, await set.clone().text()).toBe(200);

    const run = await promote([`${src}@1`, dst, "--no-color"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(`⧗ change request ${namespace}/\\d+ created — needs approval by another admin`),
    );
    expect((await current(dst)).version).toBe("1");

    const json = await promote([`${src}@1`, dst, "--json"]);
    expect(json.code, json.stderr).toBe(0);
    const held = JSON.parse(json.stdout) as { changeRequest: { id: number; state: string; key: string } };
    expect(held.changeRequest).toMatchObject({ state: "pending", key: dst, kind: "publish" });
    expect((await current(dst)).version).toBe("1");

    // Another admin approves: DST then holds exactly SRC@1's bytes, with the promote note.
    const approve = await fetch(
      `${origin.url}/v1/change-requests/${namespace}/${held.changeRequest.id}/approve`,
      {
        method: "POST",
        headers: { Authorization: `Bearer ${await origin.adminToken("admin", "reviewer")}` },
      },
    );
    expect(approve.status, await approve.clone().text()).toBe(201);
    const now = await current(dst);
    expect(now).toEqual({ version: "2", text: STAGED });
    expect((await versionOf(dst, 2)).digest).toBe((await versionOf(src, 1)).digest);
  });
});

describe("splicedContent", () => {
  it("cuts the content member out of a version record exactly, even when other members mention it", () => {
    const body = '{ "a" : 1.50 }\n';
    const record = `{"key":"a/b","message":"said \\",\\"content\\":","version":2,"content":${body}}`;
    const bytes = splicedContent(new TextEncoder().encode(record));
    expect(new TextDecoder().decode(bytes ?? new Uint8Array())).toBe(body);
    expect(splicedContent(new TextEncoder().encode('{"key":"a/b"}'))).toBeNull();
  });
});
