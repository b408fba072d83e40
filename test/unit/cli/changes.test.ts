/**
 * `fleetconf changes …` and the held-write path of publish/rollback/delete/rollout start: argument
 * checks (exit 2), what each prints, and what each sends. The origin's side is tested in workerd
 * (test/origin/approvals*.test.ts); here a recording fetch stands in for it.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "./support/run-cli";

const REQUEST = {
  id: 7,
  namespace: "payments",
  state: "pending",
  kind: "publish",
  key: "payments/prod/flags",
  keys: ["payments/prod/flags"],
  author: "alice",
  createdAt: "2026-12-01T00:00:00.000Z",
  expiresAt: "2026-12-02T00:00:00.000Z",
  message: "bump",
  digest: "sha-256=:abc=:",
  size: 10,
  ifMatch: null,
  ifNoneMatch: null,
  baseEtag: null,
  rollout: null,
  to: null,
  decidedAt: null,
  decidedBy: null,
  reason: null,
  resultVersion: null,
};

type Sent = { method: string; path: string; body: string | null };

/** A fetch answering every request with `status` and `body`, recording what was sent. */
function origin(status: number, body: unknown) {
  const sent: Sent[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const raw = init?.body;
    sent.push({
      method: init?.method ?? "GET",
      path: `${url.pathname}${url.search}`,
      body:
        raw instanceof Uint8Array
          ? new TextDecoder().decode(raw)
          : raw === undefined || raw === null
            ? null
            : String(raw),
    });
    return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
  };
  return { fetch: fetch as typeof globalThis.fetch, sent };
}

const GLOBAL = ["--origin", "http://origin.test", "--token", "t"];

describe("held writes", () => {
  it("publish prints the change request and exits 0 when the origin answers 202", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fc-changes-"));
    await writeFile(join(dir, "flags.json"), '{"rps": 2}');
    const o = origin(202, { changeRequest: REQUEST });
    const run = await runCli(["publish", "payments/prod/flags", "flags.json", ...GLOBAL], {
      fetch: o.fetch,
      cwd: dir,
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("change request payments/7 created — needs approval by another admin");
    const json = await runCli(["publish", "payments/prod/flags", "flags.json", "--json", ...GLOBAL], {
      fetch: o.fetch,
      cwd: dir,
    });
    expect(JSON.parse(json.stdout)).toEqual({ changeRequest: REQUEST });
  });

  it.each([[["rollback", "payments/prod/flags", "2"]], [["delete", "payments/prod/flags", "--yes"]]])(
    "%j reports the held request",
    async (argv) => {
      const o = origin(202, {
        changeRequest: { ...REQUEST, kind: argv[0] === "delete" ? "delete" : "rollback" },
      });
      const run = await runCli([...argv, ...GLOBAL], { fetch: o.fetch });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain("change request payments/7 created");
    },
  );
});

describe("fleetconf changes", () => {
  it("lists with --state and prints one row per request", async () => {
    const o = origin(200, { namespace: "payments", changeRequests: [REQUEST], next: null });
    const run = await runCli(["changes", "list", "payments", "--state", "all", ...GLOBAL], {
      fetch: o.fetch,
    });
    expect(run.code).toBe(0);
    expect(o.sent[0]).toMatchObject({ method: "GET", path: "/v1/change-requests/payments?state=all" });
    expect(run.stdout).toMatch(/7\s+pending\s+publish of payments\/prod\/flags\s+alice/);
  });

  it("shows a request with its diff", async () => {
    const diff = [
      { op: "test", path: "/rps", value: 1 },
      { op: "replace", path: "/rps", value: 2 },
    ];
    const o = origin(200, { changeRequest: REQUEST, diff });
    const run = await runCli(["changes", "show", "payments", "7", ...GLOBAL], { fetch: o.fetch });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("payments/7");
    expect(run.stdout).toContain("/rps");
    expect(run.stdout).toContain("alice");
  });

  it("shows what a rollout start would start and each member of a change set", async () => {
    const start = {
      ...REQUEST,
      baseEtag: '"4-x"',
      rollout: { mode: "fixed", percent: 1, ring: { colos: ["AMS"] }, gates: null },
    };
    const shown = await runCli(["changes", "show", "payments", "7", ...GLOBAL], {
      fetch: origin(200, { changeRequest: start, diff: [], members: null }).fetch,
    });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/rollout\s+\{"mode":"fixed","percent":1,"ring":\{"colos":\["AMS"\]\}\}/);
    expect(shown.stdout).toMatch(/reviewed on\s+"4-x"/);
    const set = { ...REQUEST, kind: "changes", key: null, keys: ["payments/a", "payments/b"] };
    const members = [
      { key: "payments/a", delete: false, diff: [{ op: "add", path: "/new", value: 1 }] },
      { key: "payments/b", delete: true, diff: null },
    ];
    const run = await runCli(["changes", "show", "payments", "7", ...GLOBAL], {
      fetch: origin(200, { changeRequest: set, diff: null, members }).fetch,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("payments/a");
    expect(run.stdout).toContain("/new");
    expect(run.stdout).toMatch(/payments\/b: delete/);
  });

  it("approves with a message and names the resulting version", async () => {
    const approved = { ...REQUEST, state: "approved", decidedBy: "bob", resultVersion: 5 };
    const o = origin(201, { key: REQUEST.key, version: 5, changeRequest: approved });
    const run = await runCli(["changes", "approve", "payments", "7", "-m", "ok", ...GLOBAL], {
      fetch: o.fetch,
    });
    expect(run.code).toBe(0);
    expect(o.sent[0]).toEqual({
      method: "POST",
      path: "/v1/change-requests/payments/7/approve",
      body: '{"message":"ok"}',
    });
    expect(run.stdout).toContain("approved payments/7");
    expect(run.stdout).toContain("v5");
  });

  it("turns the origin's 403 for an approval by the author into exit 1 with its detail", async () => {
    const problem = {
      type: "x",
      title: "Forbidden",
      status: 403,
      code: "own_approval",
      detail: "needs another admin",
    };
    const o = origin(403, problem);
    const run = await runCli(["changes", "approve", "payments", "7", ...GLOBAL], { fetch: o.fetch });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("needs another admin");
    expect(run.stderr).toContain("another admin must approve it");
    expect(run.stderr).not.toContain("scope does not cover");
    expect(o.sent[0]?.body).toBeNull();
  });

  it("rejects with the reason", async () => {
    const o = origin(200, { changeRequest: { ...REQUEST, state: "rejected", reason: "no" } });
    const run = await runCli(["changes", "reject", "payments", "7", "--reason", "no", ...GLOBAL], {
      fetch: o.fetch,
    });
    expect(run.code).toBe(0);
    expect(o.sent[0]).toMatchObject({
      path: "/v1/change-requests/payments/7/reject",
      body: '{"reason":"no"}',
    });
  });

  it.each([
    [["changes", "reject", "payments", "7"], "--reason"],
    [["changes", "approve", "payments", "x7"], "invalid change request id"],
    [["changes", "list", "Payments"], "invalid namespace"],
    [["changes", "list", "payments", "--state", "open"], "--state must be one of"],
    [["namespace", "set", "payments", "--approval", "maybe"], "--approval must be"],
    [["namespace", "set", "payments", "--approval-ttl", "60"], "approval-ttl"],
    [["token", "--read", "--scope", "read:payments", "--sub", "bob"], "--sub applies to admin tokens"],
  ])("refuses %j with a usage error before calling the origin", async (argv, message) => {
    const o = origin(200, {});
    const run = await runCli([...argv, ...GLOBAL], { fetch: o.fetch });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(o.sent).toHaveLength(0);
  });

  it("namespace set --approval required sends the setting and shows it", async () => {
    const doc = {
      namespace: "payments",
      visibility: "private",
      maxAge: 5,
      staleWhileRevalidate: 30,
      staleIfError: 86400,
      freshnessTtl: 86400,
      approval: "required",
      approvalTtl: 3600,
    };
    const o = origin(200, { ...doc, distribution: "complete" });
    const argv = [
      "namespace",
      "set",
      "payments",
      "--approval",
      "required",
      "--approval-ttl",
      "3600",
      ...GLOBAL,
    ];
    const run = await runCli(argv, { fetch: o.fetch });
    expect(run.code).toBe(0);
    expect(JSON.parse(o.sent[0]?.body ?? "{}")).toEqual({ approval: "required", approvalTtl: 3600 });
    expect(run.stdout).toMatch(/approval\s+required/);
  });
});
