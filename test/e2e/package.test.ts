/**
 * The package as users get it: `npm pack` (prepack runs `npm run build`) gives a tarball that
 * installs offline into an empty folder, whose `fleetconf` starts without tsx, and whose SDK
 * (`fleetconf/client`, compiled JS + .d.ts) loads in Node, type-checks in a consumer, runs in
 * workerd (a tiny worker bundled from the installed package) and in Chromium (a browser bundle).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "./support/stack";

const temp = mkdtempSync(join(tmpdir(), "fleetconf-package-"));
const app = join(temp, "app");
const CHROMIUM = "/usr/bin/chromium";

function run(command: string, args: string[], cwd: string, timeoutMs = 120_000) {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", timeout: timeoutMs });
  return { status: result.status, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}

/** A JWKS the SDK's parseJwks accepts: what each runtime computes from the installed package. */
const JWKS = JSON.stringify({
  keys: [{ kty: "OKP", crv: "Ed25519", kid: "k1", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" }],
});
const PROBE = `const jwks = parseJwks(JSON.parse(${JSON.stringify(JWKS)}));
const probe = [typeof createConfigClient, jwks.keys.length, jwks.keys[0].kid].join(" ");`;

describe("the packed package", () => {
  beforeAll(() => {
    const packed = run("npm", ["pack", "--pack-destination", temp, "--silent"], REPO_ROOT, 180_000);
    expect(packed.status, packed.stderr).toBe(0);
    const tarball = readdirSync(temp).find((name) => /^fleetconf-.*\.tgz$/.test(name));
    expect(tarball).toBeDefined();
    run("mkdir", ["-p", app], temp);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
    const installed = run(
      "npm",
      ["install", "--offline", "--no-audit", "--no-fund", join(temp, String(tarball))],
      app,
    );
    expect(installed.status, installed.stderr).toBe(0);
  }, 240_000);

  afterAll(() => rmSync(temp, { recursive: true, force: true }));

  it("installs with no dependencies and no TypeScript sources", () => {
    const installed = readdirSync(join(app, "node_modules")).filter((name) => !name.startsWith("."));
    expect(installed).toEqual(["fleetconf"]);
    expect(existsSync(join(app, "node_modules", "fleetconf", "cli", "main.ts"))).toBe(false);
  });

  it("runs `fleetconf --help` and `fleetconf agent --help` from the installed bin", () => {
    const bin = join(app, "node_modules", ".bin", "fleetconf");
    const help = run(bin, ["--help"], app, 30_000);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toContain("Usage: fleetconf <command>");
    const agent = run(bin, ["agent", "--help"], app, 30_000);
    expect(agent.status, agent.stderr).toBe(0);
    expect(agent.stdout).toContain("Usage: fleetconf agent");
    // A bad flag combination is still refused with the usage exit code.
    expect(run(bin, ["agent"], app, 30_000).status).toBe(2);
  });

  it("imports fleetconf/client in Node", () => {
    writeFileSync(
      join(app, "probe.mjs"),
      `import { createConfigClient, parseJwks } from "fleetconf/client";\n${PROBE}\nconsole.log(probe);\n`,
    );
    const probe = run(process.execPath, ["probe.mjs"], app, 30_000);
    expect(probe.status, probe.stderr).toBe(0);
    expect(probe.stdout.trim()).toBe("function 1 k1");
  });

  it("type-checks a TypeScript consumer against the shipped .d.ts", () => {
    writeFileSync(
      join(app, "consumer.ts"),
      [
        'import { type ConfigClientOptions, type ConfigSnapshot, createConfigClient } from "fleetconf/client";',
        'const options: ConfigClientOptions<{ rps: number }> = { edge: "https://edge.example", key: "payments/prod/limits" };',
        "const client = createConfigClient(options);",
        "client.onChange((snapshot: ConfigSnapshot<{ rps: number }>) => console.log(snapshot.value.rps));",
        "// @ts-expect-error a key must be a string",
        'createConfigClient({ edge: "https://edge.example", key: 42 });',
        "",
      ].join("\n"),
    );
    writeFileSync(
      join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          module: "NodeNext",
          moduleResolution: "NodeNext",
          target: "ES2022",
          lib: ["ES2023", "DOM"],
          types: [],
          skipLibCheck: true,
        },
        files: ["consumer.ts"],
      }),
    );
    const tsc = run(
      process.execPath,
      [join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "."],
      app,
    );
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
  });

  it("runs in workerd: a tiny worker bundled from the installed package", async () => {
    writeFileSync(
      join(app, "worker.mjs"),
      `import { createConfigClient, parseJwks } from "fleetconf/client";
export default { fetch() { ${PROBE} return new Response(probe); } };\n`,
    );
    const bundled = await build({
      entryPoints: [join(app, "worker.mjs")],
      bundle: true,
      write: false,
      format: "esm",
      platform: "neutral",
      conditions: ["workerd", "worker", "browser"],
      absWorkingDir: app,
      logLevel: "error",
    });
    const script = bundled.outputFiles[0]?.text ?? "";
    // Modules given explicitly: Miniflare's own import scan refuses the SDK's lazy, computed
    // `import()` of node:fs (reached only with `cacheFile`, which Workers do not use).
    const mf = new Miniflare({
      modules: [{ type: "ESModule", path: "worker.mjs", contents: script }],
      compatibilityDate: "2026-04-26",
    });
    try {
      const res = await mf.dispatchFetch("http://worker.test/");
      expect(await res.text()).toBe("function 1 k1");
    } finally {
      await mf.dispose();
    }
  });

  it.skipIf(!existsSync(CHROMIUM))(
    "runs in Chromium: a browser bundle from the installed package",
    async () => {
      writeFileSync(
        join(app, "page.mjs"),
        `import { createConfigClient, parseJwks } from "fleetconf/client";\n${PROBE}\ndocument.getElementById("out").textContent = probe;\n`,
      );
      const bundled = await build({
        entryPoints: [join(app, "page.mjs")],
        bundle: true,
        write: false,
        format: "iife",
        platform: "browser",
        absWorkingDir: app,
        logLevel: "error",
      });
      // A classic inline script: file:// pages may not load module scripts.
      const html = `<!doctype html><html><body><pre id="out">pending</pre><script>${bundled.outputFiles[0]?.text ?? ""}</script></body></html>`;
      writeFileSync(join(app, "page.html"), html);
      const profile = join(temp, "chromium-profile");
      const chromium = run(
        CHROMIUM,
        [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--no-first-run",
          `--user-data-dir=${profile}`,
          "--virtual-time-budget=2000",
          "--dump-dom",
          `file://${join(app, "page.html")}`,
        ],
        app,
        60_000,
      );
      expect(chromium.stdout, chromium.stderr).toContain('<pre id="out">function 1 k1</pre>');
    },
  );
});
