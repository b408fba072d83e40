/**
 * The CLI's local-secrets commands against real files in a temp directory: `.dev.vars` parsing
 * as wrangler reads it, `token` minting verifiable admin tokens, and `keys generate|rotate|retire`
 * editing SIGNING_KEYS and PUBLIC_JWKS without touching anything else.
 */
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isAdminScope } from "../../../cli/commands/token";
import { jsonVariable, parseDotenv, setDotenvValues } from "../../../cli/dev-vars";
import type { PrivateJwk, PublicJwk } from "../../../core/jws";
import { verifyAdminToken } from "../../../core/tokens";
import { generateSecrets, renderDotenv as renderDevVars } from "../../../scripts/lib/secrets";
import { runCli } from "./support/run-cli";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fleetconf-cli-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cli = (argv: string[]) => runCli(argv, { cwd: dir, env: {} });

async function installation(): Promise<Record<string, string>> {
  const secrets = { ...(await generateSecrets()) };
  await writeFile(join(dir, ".dev.vars"), renderDevVars(secrets));
  await mkdir(join(dir, "origin"));
  await writeFile(join(dir, "origin", "wrangler.toml"), "name = 'x'\n");
  return secrets;
}

async function vars(path = join(dir, ".dev.vars")) {
  const parsed = parseDotenv(await readFile(path, "utf8"));
  return {
    raw: parsed,
    signing: jsonVariable(parsed, "SIGNING_KEYS") as PrivateJwk[],
    jwks: jsonVariable(parsed, "PUBLIC_JWKS") as { keys: PublicJwk[] },
  };
}

describe(".dev.vars parsing", () => {
  it("reads values the way wrangler's dotenv does", () => {
    const parsed = parseDotenv(
      [
        "# comment",
        "A='{\"x\": 1}'",
        'B="line1\\nline2"',
        "export C=plain value # trailing comment",
        "D=",
        "",
      ].join("\n"),
    );
    expect(parsed.get("A")).toBe('{"x": 1}');
    expect(parsed.get("B")).toBe("line1\nline2");
    expect(parsed.get("C")).toBe("plain value");
    expect(parsed.get("D")).toBe("");
  });

  it("accepts JSON whose quotes were escaped inside double quotes", () => {
    const parsed = parseDotenv('KEYS="[{\\"kid\\":\\"a\\"}]"\n');
    expect(jsonVariable(parsed, "KEYS")).toEqual([{ kid: "a" }]);
  });

  it("replaces only the named lines and appends missing ones", () => {
    const text = "# keep me\nA='1'\nB='2'\n";
    expect(setDotenvValues(text, { B: "3", C: "4" })).toBe("# keep me\nA='1'\nB='3'\nC='4'\n");
    expect(() => setDotenvValues(text, { A: "it's" })).toThrow();
  });
});

describe("fleetconf token", () => {
  it("mints an admin token that core verifies, with the requested scope and ttl", async () => {
    const secrets = await installation();
    const run = await cli(["token", "--scope", "publish:payments read:shop", "--ttl", "2h"]);
    expect(run.code).toBe(0);
    const token = run.stdout.trim();
    const verified = await verifyAdminToken(token, {
      kind: "secret",
      secret: secrets.ADMIN_JWT_SECRET as string,
    });
    expect(verified.scopes).toEqual(["publish:payments", "read:shop"]);
    expect(verified.exp - Math.floor(Date.now() / 1000)).toBeGreaterThan(7100);
    expect(verified.sub).toMatch(/^dev/);
    expect(run.stderr).toContain('admin token for "publish:payments read:shop"');
  });

  it("prints {kind, token, scope, expiresAt} with --json", async () => {
    await installation();
    const run = await cli(["token", "--json"]);
    expect(JSON.parse(run.stdout)).toMatchObject({
      kind: "admin",
      scope: "admin",
      token: expect.any(String),
    });
    expect(run.stderr).toBe("");
  });

  it("fails with exit 1 when .dev.vars has no ADMIN_JWT_SECRET", async () => {
    const run = await cli(["token"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("no ADMIN_JWT_SECRET");
  });

  it("accepts only admin, publish:NS and read:NS scopes", () => {
    expect(isAdminScope("admin")).toBe(true);
    expect(isAdminScope("publish:a read:b")).toBe(true);
    expect(isAdminScope("read:*")).toBe(false);
    expect(isAdminScope("publish:..")).toBe(false);
    expect(isAdminScope("")).toBe(false);
    expect(isAdminScope("write:a")).toBe(false);
  });
});

describe("fleetconf keys generate", () => {
  it("prints all five secrets in dotenv syntax without writing anything", async () => {
    const run = await cli(["keys", "generate"]);
    expect(run.code).toBe(0);
    const parsed = parseDotenv(run.stdout);
    expect([...parsed.keys()].sort()).toEqual([
      "ADMIN_JWT_SECRET",
      "PUBLIC_JWKS",
      "PURGE_SECRET",
      "SIGNING_KEYS",
      "TOKEN_KEYS",
    ]);
    await expect(stat(join(dir, ".dev.vars"))).rejects.toThrow();
  });

  it("--write creates .dev.vars (mode 600) and the origin copy, and refuses to overwrite", async () => {
    await mkdir(join(dir, "origin"));
    await writeFile(join(dir, "origin", "wrangler.toml"), "");
    expect((await cli(["keys", "generate", "--write"])).code).toBe(0);
    const info = await stat(join(dir, ".dev.vars"));
    expect(info.mode & 0o777).toBe(0o600);
    expect(await readFile(join(dir, "origin", ".dev.vars"), "utf8")).toBe(
      await readFile(join(dir, ".dev.vars"), "utf8"),
    );
    const again = await cli(["keys", "generate", "--write"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already exists");
  });
});

describe("fleetconf keys rotate and retire", () => {
  it("puts a new signing key first and keeps the old one trusted, touching nothing else", async () => {
    const secrets = await installation();
    const before = await vars();
    const run = await cli(["keys", "rotate", "--json"]);
    expect(run.code).toBe(0);
    const { kid } = JSON.parse(run.stdout) as { kid: string };
    const after = await vars();
    expect(after.signing.map((k) => k.kid)).toEqual([kid, ...before.signing.map((k) => k.kid)]);
    expect(after.jwks.keys.map((k) => k.kid)).toEqual([kid, ...before.jwks.keys.map((k) => k.kid)]);
    expect(after.jwks.keys.every((k) => !("d" in k))).toBe(true);
    expect(after.jwks.keys[0]?.purpose).toBe("snapshot");
    for (const name of ["ADMIN_JWT_SECRET", "PURGE_SECRET", "TOKEN_KEYS"])
      expect(after.raw.get(name)).toBe(secrets[name]);
    expect(await readFile(join(dir, "origin", ".dev.vars"), "utf8")).toBe(
      await readFile(join(dir, ".dev.vars"), "utf8"),
    );
  });

  it("tells people to restart the workers", async () => {
    await installation();
    const run = await cli(["keys", "rotate"]);
    expect(run.stdout).toContain("restart the workers");
  });

  it("retires a rotated-out key from SIGNING_KEYS and PUBLIC_JWKS", async () => {
    await installation();
    const old = (await vars()).signing[0]?.kid as string;
    await cli(["keys", "rotate"]);
    const run = await cli(["keys", "retire", old]);
    expect(run.code).toBe(0);
    const after = await vars();
    expect(after.signing.map((k) => k.kid)).not.toContain(old);
    expect(after.jwks.keys.map((k) => k.kid)).not.toContain(old);
    expect(after.signing).toHaveLength(1);
  });

  it("refuses to retire the active key, a read-token key or an unknown kid", async () => {
    await installation();
    const v = await vars();
    const active = v.signing[0]?.kid as string;
    const tokenKid = v.jwks.keys.find((k) => k.purpose === "read-token")?.kid as string;
    for (const [kid, message] of [
      [active, "is the active signing key"],
      [tokenKid, "is a read-token key"],
      ["s-nope", "no key with kid s-nope"],
    ]) {
      const run = await cli(["keys", "retire", kid as string]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(message);
    }
    expect((await vars()).signing).toEqual(v.signing);
  });

  it("fails clearly when there is no .dev.vars", async () => {
    const run = await cli(["keys", "rotate"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(".dev.vars not found");
  });
});
