/**
 * The fleet agent in-process, against a local HTTP edge double serving really signed snapshots:
 * the file follows verified versions only, the hook runs once per change, restarts never go back
 * in versions, outages keep the file, and stopping leaves no temp files.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runAgent } from "../../../cli/agent/agent";
import { HookRunner } from "../../../cli/agent/hook";
import type { ConfigClientOptions } from "../../../client";
import { encodeBundleManifest } from "../../../core/bundles";
import type { Snapshot } from "../../../core/snapshot";
import {
  flipByte,
  listenInRange,
  longPollEdge,
  newSigner,
  problem,
  type Signer,
  serveSnapshot,
  startTestServer,
  type TestServer,
  waitFor,
} from "../client/support/snapshot-server";
import { runCli } from "./support/run-cli";

const KEY = "web/prod/nginx";
let server: TestServer;
let signer: Signer;
let dir: string;
/** The agent's state directory, apart from the output folder (DESIGN §8). */
let stateDir: string;
let out: string;
let hookLog: string;

beforeEach(async () => {
  server = await startTestServer();
  signer = await newSigner();
  dir = await mkdtemp(join(tmpdir(), "fleetconf-agent-"));
  stateDir = await mkdtemp(join(tmpdir(), "fleetconf-agent-state-"));
  out = join(dir, "nginx.json");
  hookLog = join(dir, "hook.log");
});

afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
  await rm(stateDir, { recursive: true, force: true });
});

interface Line {
  level: string;
  event: string;
  [field: string]: unknown;
}

function startAgent(
  options: {
    exec?: string | null;
    hookGraceMs?: number;
    token?: string;
    env?: Record<string, string>;
    client?: Partial<ConfigClientOptions<unknown>>;
  } = {},
) {
  const lines: Line[] = [];
  const controller = new AbortController();
  const exec =
    options.exec === undefined
      ? `echo "$FLEETCONF_KEY $FLEETCONF_VERSION $FLEETCONF_FILE" >> ${hookLog}`
      : options.exec;
  const done = runAgent(
    {
      client: {
        edge: server.url,
        key: KEY,
        jwks: signer.jwks,
        intervalMs: 30,
        maxBackoffMs: 60,
        ...(options.token ? { token: options.token } : {}),
        ...options.client,
      },
      out,
      stateDir,
      env: { PATH: process.env.PATH, ...options.env },
      ...(exec === null ? {} : { exec }),
      ...(options.hookGraceMs === undefined ? {} : { hookGraceMs: options.hookGraceMs }),
    },
    controller.signal,
    (level, event, fields) => lines.push({ level, event, ...fields }),
  );
  return {
    lines,
    events: (name: string) => lines.filter((l) => l.event === name),
    async stop() {
      controller.abort();
      return done;
    },
  };
}

const hookRuns = async () => (await readFile(hookLog, "utf8").catch(() => "")).split("\n").filter(Boolean);
const fileText = () => readFile(out, "utf8");

describe("fleetconf agent", () => {
  it("writes the verified config and runs the hook once with FLEETCONF_* set", async () => {
    server.handle(serveSnapshot(await signer.sign(KEY, 1, { workers: 4 })));
    const agent = startAgent();
    await waitFor(() => agent.events("hook.done").length === 1, 5000, "first hook");
    expect(await fileText()).toBe('{"workers":4}');
    await new Promise((r) => setTimeout(r, 150)); // several more polls, all 304
    expect(await hookRuns()).toEqual([`${KEY} 1 ${out}`]);
    expect(await agent.stop()).toEqual({ writes: 1, hooks: 1, stale: false });
  });

  it("replaces the file and runs the hook again for each new version", async () => {
    server.handle(serveSnapshot(await signer.sign(KEY, 1, { v: 1 })));
    const agent = startAgent();
    await waitFor(() => agent.events("hook.done").length === 1);
    server.handle(serveSnapshot(await signer.sign(KEY, 2, { v: 2 })));
    await waitFor(() => agent.events("hook.done").length === 2);
    expect(await fileText()).toBe('{"v":2}');
    expect(await hookRuns()).toEqual([`${KEY} 1 ${out}`, `${KEY} 2 ${out}`]);
    expect(agent.events("config.written").map((l) => l.version)).toEqual([1, 2]);
    await agent.stop();
  });

  it("never writes a tampered version and keeps the last good file", async () => {
    server.handle(serveSnapshot(await signer.sign(KEY, 1, { v: 1 })));
    const agent = startAgent();
    await waitFor(() => agent.events("hook.done").length === 1);
    const next = await signer.sign(KEY, 2, { v: 2 });
    server.handle(serveSnapshot(next, { body: flipByte(next.body, 2) }));
    await waitFor(() => agent.events("client.error").some((l) => l.code === "digest_mismatch"));
    expect(await fileText()).toBe('{"v":1}');
    expect(await hookRuns()).toHaveLength(1);
    await agent.stop();
  });

  it("keeps the version in the state directory so a restarted agent refuses an older version", async () => {
    server.handle(serveSnapshot(await signer.sign(KEY, 5, { v: 5 })));
    const first = startAgent();
    await waitFor(() => first.events("hook.done").length === 1);
    await first.stop();
    expect(await readdir(stateDir)).toEqual(["web~prod~nginx.snapshot.json"]);
    expect(await readdir(dir)).not.toContain("nginx.json.fleetconf.json");
    server.handle(serveSnapshot(await signer.sign(KEY, 4, { v: 4 })));
    const second = startAgent();
    await waitFor(() => second.events("client.error").some((l) => l.code === "version_rollback"));
    expect(await fileText()).toBe('{"v":5}');
    expect(await hookRuns()).toHaveLength(1);
    await second.stop();
  });

  it("starts from an up-to-date file without rewriting it or running the hook", async () => {
    server.handle(serveSnapshot(await signer.sign(KEY, 3, { v: 3 })));
    const first = startAgent();
    await waitFor(() => first.events("hook.done").length === 1);
    await first.stop();
    const second = startAgent();
    await waitFor(() => second.events("config.current").length === 1);
    expect(await second.stop()).toEqual({ writes: 0, hooks: 0, stale: false });
    expect(await hookRuns()).toHaveLength(1);
  });

  it("rewrites a file edited by hand back to the verified content", async () => {
    server.handle(serveSnapshot(await signer.sign(KEY, 3, { v: 3 })));
    const first = startAgent({ exec: null });
    await waitFor(() => first.events("config.written").length === 1);
    await first.stop();
    await writeFile(out, '{"v": "hand edit"}');
    const second = startAgent({ exec: null });
    await waitFor(() => second.events("config.written").length === 1);
    expect(await fileText()).toBe('{"v":3}');
    await second.stop();
  });

  it("leaves the file alone and retries while the edge is down, then catches up", async () => {
    server.handle(serveSnapshot(await signer.sign(KEY, 1, { v: 1 })));
    const first = startAgent();
    await waitFor(() => first.events("hook.done").length === 1);
    await first.stop();
    server.handle(problem(502, "edge down"));
    const second = startAgent();
    // The stale cached version is reported once its file has been read back, which under load can
    // come after the third failed poll: wait for both, then check what was reported.
    await waitFor(
      () => second.events("client.error").length >= 3 && second.events("config.current").length >= 1,
      5000,
      "retries and the stale version",
    );
    expect(second.events("config.current")[0]).toMatchObject({ version: 1, stale: true });
    expect(await fileText()).toBe('{"v":1}');
    server.handle(serveSnapshot(await signer.sign(KEY, 2, { v: 2 })));
    await waitFor(() => second.events("hook.done").length === 1);
    expect(await fileText()).toBe('{"v":2}');
    expect(await hookRuns()).toEqual([`${KEY} 1 ${out}`, `${KEY} 2 ${out}`]);
    await second.stop();
  });

  it("removes temp files a killed writer left and leaves none after stopping", async () => {
    await writeFile(join(dir, ".nginx.json.0123456789ab.tmp"), "half");
    await writeFile(join(dir, "unrelated.tmp"), "keep");
    server.handle(serveSnapshot(await signer.sign(KEY, 1, { v: 1 })));
    const agent = startAgent();
    await waitFor(() => agent.events("hook.done").length === 1);
    await agent.stop();
    expect((await readdir(dir)).sort()).toEqual(["hook.log", "nginx.json", "unrelated.tmp"]);
    expect(agent.events("agent.cleanup")[0]?.removed).toEqual([".nginx.json.0123456789ab.tmp"]);
  });

  it("logs a failing hook with its exit code and keeps running", async () => {
    server.handle(serveSnapshot(await signer.sign(KEY, 1, { v: 1 })));
    const agent = startAgent({ exec: "echo reloading; exit 3" });
    await waitFor(() => agent.events("hook.failed").length === 1);
    expect(agent.events("hook.failed")[0]).toMatchObject({ version: 1, exitCode: 3 });
    expect(agent.events("hook.output")[0]).toMatchObject({ stream: "stdout", line: "reloading" });
    await agent.stop();
  });

  it("waits for a running hook on stop and terminates it after the grace period", async () => {
    server.handle(serveSnapshot(await signer.sign(KEY, 1, { v: 1 })));
    const agent = startAgent({ exec: "sleep 30", hookGraceMs: 200 });
    await waitFor(() => agent.events("hook.start").length === 1);
    const started = Date.now();
    await agent.stop();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(agent.events("hook.killed")).toHaveLength(1);
    expect(agent.events("hook.failed")[0]).toMatchObject({ signal: "SIGTERM" });
  });
});

describe("agent security", () => {
  it("never logs the read token and does not pass credentials to the hook", async () => {
    const secret = "eyJhbGciOiJFZERTQSJ9.secret-read-token.sig";
    server.handle(serveSnapshot(await signer.sign(KEY, 1, { v: 1 })));
    const agent = startAgent({
      token: secret,
      env: { FLEETCONF_READ_TOKEN: secret, FLEETCONF_TOKEN: secret, KEEP_ME: "yes" },
      exec: `env > ${hookLog}`,
    });
    await waitFor(() => agent.events("hook.done").length === 1);
    await agent.stop();
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${secret}`);
    expect(JSON.stringify(agent.lines)).not.toContain("secret-read-token");
    const hookEnv = await readFile(hookLog, "utf8");
    expect(hookEnv).toContain("KEEP_ME=yes");
    expect(hookEnv).toContain(`FLEETCONF_VERSION=1`);
    expect(hookEnv).not.toContain("secret-read-token");
  });
});

describe("HookRunner", () => {
  it("coalesces changes that arrive while a hook runs into one more run for the newest", async () => {
    const runs: Array<Record<string, unknown>> = [];
    const runner = new HookRunner(
      `sleep 0.2; echo "$FLEETCONF_VERSION" >> ${hookLog}`,
      (_l, event, fields) => {
        if (event === "hook.done") runs.push(fields ?? {});
      },
      { PATH: process.env.PATH },
    );
    for (const version of [1, 2, 3, 4]) runner.trigger({ key: KEY, version, file: out });
    await waitFor(() => runs.length === 2, 5000);
    await runner.idle(5000);
    expect(await hookRuns()).toEqual(["1", "4"]);
    expect(runner.runs).toBe(2);
  });
});

describe("agent long-poll", () => {
  it("writes a publish as soon as the edge answers the held request, with no interval to wait for", async () => {
    const edge = longPollEdge(await signer.sign(KEY, 1, { v: 1 }));
    server.handle(edge.handler);
    const agent = startAgent({ client: { intervalMs: 60_000, waitSeconds: 30 } });
    await waitFor(() => agent.events("hook.done").length === 1, 5000, "first hook");
    expect(agent.events("agent.start")[0]).toMatchObject({ longPoll: true, waitSeconds: 30 });
    await waitFor(() => edge.parked() === 1, 2000, "the agent's request to be held");
    const published = Date.now();
    edge.publish(await signer.sign(KEY, 2, { v: 2 }));
    await waitFor(() => agent.events("config.written").length === 2, 2000, "v2 written");
    expect(Date.now() - published).toBeLessThan(1000);
    expect(await fileText()).toBe('{"v":2}');
    await waitFor(() => agent.events("hook.done").length === 2, 2000, "second hook");
    await waitFor(() => edge.parked() === 1, 2000, "the next held request");
    // Stopping aborts the held request instead of waiting out its 30 s. (A hook's result also
    // gives up a held request, so its Config-Client-Status goes out at once: count from here.)
    const abandonedBefore = edge.abandoned;
    const stopping = Date.now();
    await agent.stop();
    expect(Date.now() - stopping).toBeLessThan(2000);
    await waitFor(() => edge.abandoned === abandonedBefore + 1, 2000, "the held request to be dropped");
  });

  it("takes --wait and --no-long-poll from the command line", async () => {
    const jwksFile = join(dir, "jwks.json");
    await writeFile(jwksFile, JSON.stringify(signer.jwks));
    const v1 = await signer.sign(KEY, 1, { v: 1 });
    // Each agent gets an edge of its own. A stopped agent may have sent one more request just
    // before it stopped (after writing v1 its Config-Client-Status replaces the held request), and
    // an edge shared by both agents can record that request after the next agent has started,
    // where it would count as the next agent's first request.
    const run = async (flags: string[]) => {
      const edge = await startTestServer(longPollEdge(v1).handler);
      const controller = new AbortController();
      const done = runCli(
        [
          "agent",
          "--key",
          KEY,
          "--out",
          out,
          "--jwks",
          jwksFile,
          "--edge",
          edge.url,
          "--interval",
          "60",
          "--state-dir",
          stateDir,
          ...flags,
        ],
        { env: { PATH: process.env.PATH }, stopSignal: () => controller.signal },
      );
      try {
        await waitFor(() => edge.requests.length >= 2, 5000, "two requests");
        controller.abort();
        const result = await done;
        expect(result.code, result.stderr).toBe(0);
        return edge.requests.slice();
      } finally {
        controller.abort();
        await edge.close();
      }
    };
    const held = await run(["--wait", "7"]);
    expect(held[1]?.headers.prefer).toBe("wait=7");
    // The second agent starts from the sidecar's version, so its first request is conditional.
    const polled = await run(["--no-long-poll", "--interval", "0.2"]);
    expect(polled.map((r) => r.headers.prefer)).toEqual([undefined, undefined]);
    expect(polled[0]?.headers["if-none-match"]).toBeDefined();
  });

  it("requires a pinned trust against a non-loopback edge, and refuses a bad root file", async () => {
    const noPin = await runCli(
      ["agent", "--key", KEY, "--out", out, "--edge", "https://config.example.com"],
      {
        env: { PATH: process.env.PATH },
      },
    );
    expect(noPin.code).toBe(2);
    expect(noPin.stderr).toMatch(/pin what to trust with --root FILE/);
    const rootFile = join(dir, "root.json");
    await writeFile(rootFile, '{"signed":{"type":"something-else"}}');
    const bad = await runCli(
      ["agent", "--key", KEY, "--out", out, "--root", rootFile, "--edge", server.url],
      {
        env: { PATH: process.env.PATH },
      },
    );
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/not a trust root/);
    await expect(readFile(out)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("with --max-staleness reports stale (log line, status file, exit status 75) and keeps the file", async () => {
    const jwksFile = join(dir, "jwks.json");
    const statusFile = join(dir, "status.json");
    await writeFile(jwksFile, JSON.stringify(signer.jwks));
    // An edge that never sends Config-Freshness: no fresh proof can be had.
    server.handle(serveSnapshot(await signer.sign(KEY, 1, { v: 1 })));
    const controller = new AbortController();
    const done = runCli(
      [
        "agent",
        "--key",
        KEY,
        "--out",
        out,
        "--jwks",
        jwksFile,
        "--edge",
        server.url,
        "--no-long-poll",
        "--interval",
        "0.2",
        "--max-staleness",
        "1",
        "--status",
        statusFile,
      ],
      { env: { PATH: process.env.PATH }, stopSignal: () => controller.signal },
    );
    let status: { state?: string; version?: number } = {};
    for (const deadline = Date.now() + 5000; status.state !== "stale" && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 50));
      status = JSON.parse(await readFile(statusFile, "utf8").catch(() => "{}"));
    }
    expect(status).toMatchObject({ state: "stale", version: 1 });
    expect(await fileText()).toBe('{"v":1}');
    controller.abort();
    const result = await done;
    expect(result.code).toBe(75);
    expect(result.stdout).toMatch(/"event":"config.stale"/);
  });
});

describe("fleetconf agent: refused at start", () => {
  const jwksArgs = async () => {
    const jwksFile = join(stateDir, "jwks.json");
    await writeFile(jwksFile, JSON.stringify(signer.jwks));
    return ["--jwks", jwksFile, "--edge", server.url];
  };

  it("refuses a missing output folder with exit 2 and one line, and creates it with --mkdir", async () => {
    const missing = join(dir, "not", "there", "app.json");
    const refused = await runCli(
      ["agent", "--key", KEY, "--out", missing, "--state-dir", stateDir, ...(await jwksArgs())],
      {
        env: { PATH: process.env.PATH },
      },
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split("\n")).toHaveLength(1);
    expect(refused.stderr).toContain("does not exist: create it or pass --mkdir");
    expect(server.requests).toHaveLength(0);

    server.handle(serveSnapshot(await signer.sign(KEY, 1, { v: 1 })));
    const controller = new AbortController();
    const done = runCli(
      [
        "agent",
        "--key",
        KEY,
        "--out",
        missing,
        "--mkdir",
        "--mode",
        "0640",
        "--state-dir",
        stateDir,
        ...(await jwksArgs()),
      ],
      { env: { PATH: process.env.PATH }, stopSignal: () => controller.signal },
    );
    const deadline = Date.now() + 5000;
    while ((await readFile(missing, "utf8").catch(() => "")) !== '{"v":1}' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await readFile(missing, "utf8")).toBe('{"v":1}');
    controller.abort();
    expect((await done).code).toBe(0);
    expect((await stat(missing)).mode & 0o777).toBe(0o640);
  });

  it("refuses impossible combinations with exit 2 and one line each", async () => {
    const base = ["agent", "--key", KEY, "--out", out, ...(await jwksArgs())];
    const cases: [string[], string][] = [
      [["--mode", "rw-r--r--", "--state-dir", stateDir], "is not octal permission bits"],
      [["--mode", "0040", "--state-dir", stateDir], "readable and writable by its owner"],
      [["--state-dir", dir], "is the folder of --out"],
      [["--cache", join(dir, "state.json")], "sits beside --out"],
      [["--cache", join(stateDir, "s.json"), "--state-dir", stateDir], "give one"],
    ];
    for (const [flags, why] of cases) {
      const run = await runCli([...base, ...flags], { env: { PATH: process.env.PATH } });
      expect(run.code, flags.join(" ")).toBe(2);
      expect(run.stderr.trim().split("\n"), flags.join(" ")).toHaveLength(1);
      expect(run.stderr).toContain(why);
    }
    const asFolder = await runCli(
      ["agent", "--key", KEY, "--out", dir, "--state-dir", stateDir, ...(await jwksArgs())],
      {
        env: { PATH: process.env.PATH },
      },
    );
    expect(asFolder.code).toBe(2);
    const listenCases: [string[], string][] = [
      [["--state-dir", stateDir], "give --out FILE, --listen 127.0.0.1:PORT, or both"],
      [["--listen", "0.0.0.0:2772", "--state-dir", stateDir], "must be a loopback address"],
      [["--listen", "127.0.0.1:2772", "--mkdir", "--state-dir", stateDir], "--mkdir applies to --out"],
    ];
    for (const [flags, why] of listenCases) {
      const run = await runCli(["agent", "--key", KEY, ...(await jwksArgs()), ...flags], {
        env: { PATH: process.env.PATH },
      });
      expect(run.code, flags.join(" ")).toBe(2);
      expect(run.stderr.trim().split("\n"), flags.join(" ")).toHaveLength(1);
      expect(run.stderr).toContain(why);
    }
    expect(server.requests).toHaveLength(0);
  });
});

/** A port free on 127.0.0.1 a moment ago (bound, then released). */
async function freePort(): Promise<number> {
  const probe = createServer();
  const port = await listenInRange(probe);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe("fleetconf agent: several keys behind --listen", () => {
  it("follows two keys in one process and serves each with ETag/304 from its verified state", async () => {
    const other = "web/prod/flags";
    const snapshots = new Map([
      [`/v1/configs/${KEY}`, await signer.sign(KEY, 3, { a: 3 })],
      [`/v1/configs/${other}`, await signer.sign(other, 7, { b: 7 })],
    ]);
    server.handle((req, res) => {
      const snapshot = snapshots.get((req.url ?? "").split("?")[0] ?? "");
      if (!snapshot) return problem(404, "no such key")(req, res);
      return serveSnapshot(snapshot)(req, res);
    });
    const jwksFile = join(stateDir, "jwks.json");
    await writeFile(jwksFile, JSON.stringify(signer.jwks));
    const port = await freePort();
    const controller = new AbortController();
    const done = runCli(
      [
        ...["agent", "--key", KEY, "--key", other, "--listen", `127.0.0.1:${port}`, "--state-dir", stateDir],
        ...["--jwks", jwksFile, "--edge", server.url, "--no-long-poll", "--interval", "0.2"],
      ],
      { env: { PATH: process.env.PATH }, stopSignal: () => controller.signal },
    );
    // Both keys served on one port, each from its own verified state.
    const base = `http://127.0.0.1:${port}/v1/configs`;
    const deadline = Date.now() + 5000;
    const ready = async (key: string) => (await fetch(`${base}/${key}`).catch(() => null))?.status === 200;
    while (!((await ready(KEY)) && (await ready(other))) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (const [key, snapshot] of [
      [KEY, snapshots.get(`/v1/configs/${KEY}`)],
      [other, snapshots.get(`/v1/configs/${other}`)],
    ] as const) {
      const res = await fetch(`${base}/${key}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("ETag")).toBe(snapshot?.meta.etag);
      expect(await res.text()).toBe(new TextDecoder().decode(snapshot?.body));
      const again = await fetch(`${base}/${key}`, {
        headers: { "If-None-Match": snapshot?.meta.etag ?? "" },
      });
      expect(again.status).toBe(304);
    }
    expect((await fetch(`${base}/web/prod/unknown`)).status).toBe(404);
    controller.abort();
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    const starts = result.stdout
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Line)
      .filter((l) => l.event === "agent.start");
    expect(starts.map((l) => l.key).sort()).toEqual([other, KEY].sort());
    expect(new Set(starts.map((l) => l.listen)).size).toBe(1);
    expect((await readdir(stateDir)).sort()).toEqual(
      ["jwks.json", "web~prod~flags.snapshot.json", "web~prod~nginx.snapshot.json"].sort(),
    );
  });

  it("refuses several keys with --out, or without --listen, at start", async () => {
    const base = [
      "agent",
      "--key",
      KEY,
      "--key",
      "web/prod/flags",
      "--state-dir",
      stateDir,
      "--jwks",
      join(stateDir, "j.json"),
    ];
    await writeFile(join(stateDir, "j.json"), JSON.stringify(signer.jwks));
    const withOut = await runCli([...base, "--listen", "127.0.0.1:0", "--out", out], {
      env: { PATH: process.env.PATH },
    });
    expect(withOut.code).toBe(2);
    expect(withOut.stderr).toContain("--out names one file, for one key");
    const noListen = await runCli([...base, "--out", out], { env: { PATH: process.env.PATH } });
    expect(noListen.code).toBe(2);
  });
});

describe("fleetconf agent --bundle", () => {
  it("writes every member's file of a set, then runs the hook once for the set", {
    timeout: 15_000,
  }, async () => {
    const members = ["shop/web/flags", "shop/web/limits/api"];
    const served = new Map<string, Snapshot>();
    let manifest: Snapshot | undefined;
    const publishSet = async (version: number) => {
      const entries: Record<string, { version: number; digest: string }> = {};
      for (const key of members) {
        const snapshot = await signer.sign(key, version, { key, version });
        served.set(`/v1/configs/${key}?version=${version}`, snapshot);
        entries[key] = { version, digest: snapshot.meta.digest };
      }
      const body = encodeBundleManifest({ bundle: "shop/web", version, members: entries });
      manifest = await signer.sign("bundle:shop/web", version, new TextEncoder().encode(body));
    };
    await publishSet(1);
    server.handle((req, res) => {
      const snapshot = req.url === "/v1/bundles/shop/web" ? manifest : served.get(req.url ?? "");
      if (!snapshot) return problem(404, "no such thing")(req, res);
      return serveSnapshot(snapshot)(req, res);
    });
    const jwksFile = join(stateDir, "jwks.json");
    await writeFile(jwksFile, JSON.stringify(signer.jwks));
    const bundleDir = join(dir, "conf");
    const controller = new AbortController();
    const done = runCli(
      [
        ...["agent", "--bundle", "shop/web", "--out", bundleDir, "--mkdir", "--jwks", jwksFile],
        ...["--edge", server.url, "--no-long-poll", "--interval", "0.1"],
        ...["--exec", `echo "$FLEETCONF_KEY $FLEETCONF_VERSION" >> ${hookLog}`],
      ],
      { env: { PATH: process.env.PATH }, stopSignal: () => controller.signal },
    );
    const until = async (check: () => Promise<boolean>) => {
      const deadline = Date.now() + 4000;
      while (!(await check()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    };
    await until(async () => (await hookRuns()).length === 1);
    if ((await hookRuns()).length !== 1) {
      controller.abort();
      const r = await done;
      throw new Error(`no set: ${r.stdout} ${r.stderr} ${JSON.stringify(server.requests.map((q) => q.url))}`);
    }
    expect(JSON.parse(await readFile(join(bundleDir, "web", "flags.json"), "utf8"))).toEqual({
      key: members[0],
      version: 1,
    });
    expect(JSON.parse(await readFile(join(bundleDir, "web", "limits", "api.json"), "utf8"))).toEqual({
      key: members[1],
      version: 1,
    });
    await publishSet(2);
    await until(async () => (await hookRuns()).length === 2);
    controller.abort();
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(await hookRuns()).toEqual(["shop/web 1", "shop/web 2"]);
    expect(JSON.parse(await readFile(join(bundleDir, "web", "flags.json"), "utf8")).version).toBe(2);
    expect(JSON.parse(await readFile(join(bundleDir, "web", "limits", "api.json"), "utf8")).version).toBe(2);
  });

  it("refuses --bundle with --key or --listen, and without --out, at start", async () => {
    for (const flags of [
      ["--bundle", "shop/web", "--key", KEY, "--out", dir],
      ["--bundle", "shop/web", "--listen", "127.0.0.1:0", "--out", dir],
      ["--bundle", "shop/web"],
      ["--bundle", "shop"],
    ]) {
      const run = await runCli(["agent", ...flags, "--edge", server.url], {
        env: { PATH: process.env.PATH },
      });
      expect(run.code, flags.join(" ")).toBe(2);
      expect(run.stderr.trim().split("\n"), flags.join(" ")).toHaveLength(1);
    }
  });
});
