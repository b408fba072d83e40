/**
 * The developer scripts as people run them: `npm run dev` (start, seed, token, clean stop, busy
 * ports), `npm run deploy`'s offline refusals, and `npm test`'s argument checks.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  boundServices,
  configsKvId,
  credentialSource,
  kvIdProblems,
  LOCAL_KV_ID,
  withoutServiceBinding,
} from "../../scripts/lib/deploy-checks";
import { ensureDevVars } from "../../scripts/lib/dev-vars";
import { freePorts, portIsFree, registerTempDir, releaseTempDir } from "../../scripts/lib/processes";
import { generateSecrets, parseDotenv, secretProblems } from "../../scripts/lib/secrets";
import { REPO_ROOT } from "../../scripts/lib/wrangler";
import { send } from "./support/http";

const temp = mkdtempSync(join(tmpdir(), "fleetconf-scripts-"));
registerTempDir(temp);
afterAll(() => {
  rmSync(temp, { recursive: true, force: true });
  releaseTempDir(temp);
});

/** PIDs whose command line mentions `needle` (our unique temp paths), read from /proc. */
function processesMentioning(needle: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(needle)) found.push(Number(entry));
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

/** A free port whose successor is free too: dev.mjs gives the origin's inspector N+1. */
async function adjacentFreePorts(): Promise<number> {
  for (;;) {
    const [port = 0] = await freePorts(1);
    if (port < 65535 && (await portIsFree(port + 1))) return port;
  }
}

function runDev(args: string[]): { child: ChildProcess; output: () => string } {
  let output = "";
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/dev.ts", ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  return { child, output: () => output };
}

/** Waits until the dev script prints `text`; fails early, with its output, if it exits. */
async function waitForOutput(dev: ReturnType<typeof runDev>, text: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!dev.output().includes(text)) {
    if (dev.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`npm run dev never printed "${text}" (exit ${dev.child.exitCode}):\n${dev.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });
}

describe("npm run dev", () => {
  it("starts both workers, seeds a public demo, prints a working admin token, and stops cleanly on SIGTERM", async () => {
    const [edgePort, originPort] = await freePorts(2);
    const inspector = await adjacentFreePorts();
    const state = join(temp, "dev-state");
    const registry = join(temp, "dev-registry");
    const dev = runDev([
      `--edge-port=${edgePort}`,
      `--origin-port=${originPort}`,
      `--inspector-port=${inspector}`,
      `--persist-to=${state}`,
      `--registry=${registry}`,
    ]);
    try {
      await waitForOutput(dev, "fleetconf dev stack is up", 100_000);
      expect(dev.output()).toMatch(/\[edge\] +.*Ready on http:\/\/127\.0\.0\.1:/);
      expect(dev.output()).toMatch(/\[origin\] .*Ready on http:\/\/127\.0\.0\.1:/);
      expect(dev.output()).not.toContain("warning:");
      const token = /export FLEETCONF_TOKEN='([^']+)'/.exec(dev.output())?.[1] ?? "";
      const current = await send(`http://127.0.0.1:${originPort}/v1/configs/demo/web/settings`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(current.status, current.text).toBe(200);
      const edge = await send(`http://127.0.0.1:${edgePort}/v1/configs/demo/web/settings`);
      expect(edge.status).toBe(200);
      expect(edge.json).toMatchObject({ greeting: "hello from fleetconf" });
      expect(dev.output()).toContain(`If-None-Match: ${edge.headers.get("ETag")}`);
      expect(processesMentioning(state).length).toBeGreaterThan(0);
    } finally {
      dev.child.kill("SIGTERM");
      const code = await exitOf(dev.child);
      expect(code, dev.output()).toBe(0);
    }
    expect(dev.output()).toContain("[dev] stopped.");
    expect(processesMentioning(state)).toEqual([]);
  });

  it("refuses to start when a port is taken, says which, and exits 1", async () => {
    const [busyPort = 0, otherPort] = await freePorts(2);
    const inspector = await adjacentFreePorts();
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(busyPort, "127.0.0.1", resolve));
    try {
      const dev = runDev([
        `--edge-port=${busyPort}`,
        `--origin-port=${otherPort}`,
        `--inspector-port=${inspector}`,
        `--persist-to=${join(temp, "busy-state")}`,
      ]);
      expect(await exitOf(dev.child)).toBe(1);
      expect(dev.output()).toMatch(
        new RegExp(`port ${busyPort} \\(edge\\).* already in use on 127\\.0\\.0\\.1`),
      );
    } finally {
      holder.close();
    }
  });
});

describe(".dev.vars handling of npm run dev", () => {
  const freshRoot = () => {
    const root = mkdtempSync(join(temp, "root-"));
    mkdirSync(join(root, "origin"));
    return root;
  };

  it("writes fresh, working secrets on first run and copies them beside the origin's config", () => {
    const root = freshRoot();
    const secrets = ensureDevVars(root);
    expect(secretProblems(secrets)).toEqual([]);
    const text = readFileSync(join(root, ".dev.vars"), "utf8");
    expect(readFileSync(join(root, "origin", ".dev.vars"), "utf8")).toBe(text);
    expect(parseDotenv(text)).toEqual(secrets);
    // Run again: the same secrets, nothing rewritten.
    expect(ensureDevVars(root)).toEqual(secrets);
  });

  it("rewrites JSON.stringify-quoted values, which wrangler would read with backslashes, keeping the keys", () => {
    const root = freshRoot();
    const secrets = generateSecrets();
    const jsonQuoted = Object.entries(secrets)
      .map(([name, value]) => `${name}=${JSON.stringify(value)}`)
      .join("\n");
    writeFileSync(join(root, ".dev.vars"), `${jsonQuoted}\n`);
    expect(secretProblems(parseDotenv(jsonQuoted)).length).toBeGreaterThan(0);
    expect(ensureDevVars(root)).toEqual(secrets);
    expect(readFileSync(join(root, ".dev.vars.bak"), "utf8")).toBe(`${jsonQuoted}\n`);
    expect(parseDotenv(readFileSync(join(root, "origin", ".dev.vars"), "utf8"))).toEqual(secrets);
  });

  it("refuses a .dev.vars it cannot repair instead of overwriting someone's secrets", () => {
    const root = freshRoot();
    writeFileSync(join(root, ".dev.vars"), "SIGNING_KEYS='not json'\n");
    expect(() => ensureDevVars(root)).toThrow(/will not work as wrangler reads it: .*SIGNING_KEYS/);
    expect(readFileSync(join(root, ".dev.vars"), "utf8")).toBe("SIGNING_KEYS='not json'\n");
  });
});

describe("npm run deploy", () => {
  it("refuses to deploy without touching the network when wrangler has no credentials", () => {
    const home = join(temp, "empty-home");
    mkdirSync(home, { recursive: true });
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, ".config") };
    delete env.CLOUDFLARE_API_TOKEN;
    delete env.CLOUDFLARE_API_KEY;
    const result = spawnSync(process.execPath, ["--import", "tsx", "scripts/deploy.ts"], {
      cwd: REPO_ROOT,
      env,
      encoding: "utf8",
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("[deploy] refusing to deploy:");
    expect(result.stderr).toMatch(/local placeholder|not logged in/);
  });

  it("names the local KV placeholder and mismatched KV ids as reasons to refuse", () => {
    const config = (id: string) =>
      `name = "x"\n[[kv_namespaces]]\nbinding = "CONFIGS"\nid = "${id}"\n\n[vars]\nA = "1"\n`;
    expect(
      kvIdProblems({ "wrangler.toml": config(LOCAL_KV_ID), "origin/wrangler.toml": config("abc") }),
    ).toEqual([
      expect.stringContaining(`wrangler.toml: the CONFIGS KV id is still the local placeholder`),
      expect.stringContaining("must share one KV namespace"),
    ]);
    expect(kvIdProblems({ "wrangler.toml": config("abc"), "origin/wrangler.toml": config("abc") })).toEqual(
      [],
    );
    expect(kvIdProblems({ "wrangler.toml": 'name = "x"\n' })).toEqual([
      expect.stringContaining("no [[kv_namespaces]]"),
    ]);
  });

  it("bootstraps the first deploy from a copy of the edge's config without its ORIGIN binding", () => {
    const edge = readFileSync(join(REPO_ROOT, "wrangler.toml"), "utf8");
    const toml = `${edge}\n[[services]]\nbinding = "OTHER"\nservice = "something-else"\n`;
    const bootstrap = withoutServiceBinding(toml, "fleetconf-origin");
    expect(boundServices(bootstrap)).toEqual(["something-else"]);
    expect(configsKvId(bootstrap)).toBe(configsKvId(edge));
    expect(bootstrap).toContain("[vars]");
    expect(boundServices(readFileSync(join(REPO_ROOT, "origin", "wrangler.toml"), "utf8"))).toContain(
      "fleetconf-edge",
    );
  });

  it("finds credentials in CLOUDFLARE_API_TOKEN or a wrangler login, and none in an empty home", () => {
    const home = join(temp, "login-home");
    expect(credentialSource({}, home)).toBeUndefined();
    expect(credentialSource({ CLOUDFLARE_API_TOKEN: "t" }, home)).toBe("CLOUDFLARE_API_TOKEN");
    mkdirSync(join(home, ".config", ".wrangler", "config"), { recursive: true });
    writeFileSync(join(home, ".config", ".wrangler", "config", "default.toml"), 'oauth_token = "x"\n');
    expect(credentialSource({}, home)).toContain("wrangler login");
  });
});

describe("npm test", () => {
  it("rejects an unknown stage name with exit 2 and lists the stages", () => {
    const result = spawnSync(process.execPath, ["--import", "tsx", "scripts/test.ts", "--only", "nope"], {
      cwd: REPO_ROOT,
      encoding: "utf8",
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("stages: typecheck, lint, unit, workers, build, e2e");
  });
});
