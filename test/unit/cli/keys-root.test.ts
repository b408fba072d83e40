/**
 * `fleetconf keys root-key` and `keys rotate --init / --root`: root documents written from key
 * files on disk, checked as a client checks them (core/trust-root.ts), and refused when the
 * current root's keys did not sign.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  generateSigningJwk,
  parseRootText,
  publicPart,
  verifyPinnedRoot,
  verifyRootSuccessor,
} from "../../../core";
import { runCli } from "./support/run-cli";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fleetconf-root-"));
  const snapshot = await generateSigningJwk("snapshot");
  const token = await generateSigningJwk("read-token");
  await writeFile(
    join(dir, "jwks.json"),
    JSON.stringify({ keys: [publicPart(snapshot), publicPart(token)] }),
  );
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const cli = (argv: string[]) => runCli([...argv, "--json"], { cwd: dir, env: {} });
const rootAt = async (file: string) => {
  const parsed = parseRootText(await readFile(join(dir, file), "utf8"));
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
};

describe("keys root-key", () => {
  it("writes a root private key, mode 0600", async () => {
    const run = await cli(["keys", "root-key", "--out", "r1.json"]);
    expect(run.code).toBe(0);
    expect((await stat(join(dir, "r1.json"))).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(join(dir, "r1.json"), "utf8"))).toMatchObject({
      purpose: "root",
      kty: "OKP",
    });
  });
});

describe("keys rotate --init / --root", () => {
  it("writes v1, then a v2 that adds a root key and revokes the first, both valid along the chain", async () => {
    await cli(["keys", "root-key", "--out", "r1.json"]);
    await cli(["keys", "root-key", "--out", "r2.json"]);
    const init = await cli(["keys", "rotate", "--init", "--sign", "r1.json", "--jwks", "jwks.json"]);
    expect(init.code).toBe(0);
    const v1 = await rootAt("root.v1.json");
    expect((await verifyPinnedRoot(v1)).ok).toBe(true);
    // Snapshot keys only: the read-token key is left out.
    expect(v1.signed.keys.map((k) => k.purpose)).toEqual(["root", "snapshot"]);

    const r1 = JSON.parse(await readFile(join(dir, "r1.json"), "utf8")) as { kid: string };
    const next = await cli([
      "keys",
      "rotate",
      "--root",
      "root.v1.json",
      "--sign",
      "r1.json",
      "--add-root-key",
      "r2.json",
      "--revoke",
      r1.kid,
      "--jwks",
      "jwks.json",
    ]);
    expect(next.code).toBe(0);
    const v2 = await rootAt("root.v2.json");
    expect(v2.signed.revoked).toEqual([r1.kid]);
    expect(v2.signed.keys.some((k) => k.kid === r1.kid)).toBe(false);
    expect((await verifyRootSuccessor(v1.signed, v2)).ok).toBe(true);
  });

  it("refuses to write a successor the current root's keys did not sign", async () => {
    await cli(["keys", "root-key", "--out", "r1.json"]);
    await cli(["keys", "root-key", "--out", "other.json"]);
    await cli(["keys", "rotate", "--init", "--sign", "r1.json", "--jwks", "jwks.json"]);
    const run = await cli([
      "keys",
      "rotate",
      "--root",
      "root.v1.json",
      "--sign",
      "other.json",
      "--jwks",
      "jwks.json",
    ]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("would be refused by clients");
    await expect(stat(join(dir, "root.v2.json"))).rejects.toThrow();
  });

  it.each([
    [["keys", "rotate", "--init", "--root", "x.json", "--sign", "r.json"], "either --root"],
    [["keys", "rotate", "--init"], "--sign"],
  ])("%j is a usage error", async (argv, message) => {
    const run = await cli(argv);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });
});
