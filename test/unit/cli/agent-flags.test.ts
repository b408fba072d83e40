/**
 * `fleetconf agent` hardening (issue 14): the read token from a file (never on the command line,
 * where ps shows it), and FILE written owner-only (0600) unless --mode says otherwise. The whole
 * command runs in-process against a local edge double serving really signed snapshots.
 */
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseMode } from "../../../cli/commands/agent";
import {
  newSigner,
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

beforeEach(async () => {
  server = await startTestServer();
  signer = await newSigner();
  dir = await mkdtemp(join(tmpdir(), "fleetconf-agent-flags-"));
  server.handle(serveSnapshot(await signer.sign(KEY, 1, { password: "s3cret" })));
});

afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

/** Runs the agent until FILE exists, then stops it; returns the run and FILE's mode. */
async function agentOnce(extra: string[], env: Record<string, string> = {}) {
  const out = join(dir, "app.json");
  const jwks = join(dir, "jwks.json");
  await writeFile(jwks, JSON.stringify(signer.jwks));
  const controller = new AbortController();
  const running = runCli(
    ["agent", "--key", KEY, "--out", out, "--edge", server.url, "--jwks", jwks, "--interval", "1", ...extra],
    { env: { PATH: process.env.PATH, ...env }, cwd: dir, stopSignal: () => controller.signal },
  );
  let exists = false;
  const poll = setInterval(() => {
    stat(out).then(
      () => {
        exists = true;
      },
      () => {},
    );
  }, 20);
  try {
    await waitFor(() => exists, 5000, "the agent to write FILE");
  } finally {
    clearInterval(poll);
    controller.abort();
  }
  const run = await running;
  return { run, mode: (await stat(out)).mode & 0o777 };
}

const bearerSent = () => server.requests.map((r) => r.headers.authorization).filter(Boolean);

describe("agent --token-file / FLEETCONF_READ_TOKEN_FILE", () => {
  it("sends the file's token as the bearer token, and says nothing about ps", async () => {
    await writeFile(join(dir, "token"), "file-token-123\n");
    const { run } = await agentOnce(["--token-file", "token"]);
    expect(bearerSent()).toContain("Bearer file-token-123");
    expect(run.stdout).not.toContain("agent.token");
  });

  it("reads the path from FLEETCONF_READ_TOKEN_FILE", async () => {
    await writeFile(join(dir, "cred"), "env-file-token\n");
    await agentOnce([], { FLEETCONF_READ_TOKEN_FILE: join(dir, "cred") });
    expect(bearerSent()).toContain("Bearer env-file-token");
  });

  it("warns that --token shows in ps", async () => {
    const { run } = await agentOnce(["--token", "argv-token"]);
    expect(run.stdout).toContain('"event":"agent.token"');
  });

  it.each([
    [["--token-file", "missing"], "cannot read the token file"],
    [["--token-file", "empty"], "is empty"],
    [["--token-file", "empty", "--token", "x"], "exclude each other"],
  ])("refuses %j with a usage error (exit 2)", async (extra, message) => {
    await writeFile(join(dir, "empty"), "\n");
    const run = await runCli(["agent", "--key", KEY, "--out", "x.json", ...extra], { cwd: dir, env: {} });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });
});

describe("agent --mode", () => {
  it("writes FILE owner-only (0600) by default", async () => {
    expect((await agentOnce([])).mode).toBe(0o600);
  });

  it("writes FILE with the bits --mode gives", async () => {
    expect((await agentOnce(["--mode", "0640"])).mode).toBe(0o640);
  });

  it.each([
    ["rwx", "octal"],
    ["0400", "owner"],
    ["8", "octal"],
  ])("refuses --mode %s", (raw, message) => {
    expect(() => parseMode(raw)).toThrow(message);
  });
});
