/**
 * `fleetconf keys generate|rotate|retire`: the secrets of a local installation (docs/decisions.md,
 * "Secrets and keys"). Rotation is two steps so no client ever sees a signature it cannot check:
 * `rotate` puts a new snapshot key first in SIGNING_KEYS (it signs from the next restart) and adds
 * its public half to PUBLIC_JWKS while the old key stays there; `retire` drops an old key once
 * nothing served is signed by it any more.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { generateSigningJwk, type PrivateJwk, type PublicJwk, publicPart } from "../../core/jws";
import { generateSecrets, renderDotenv as renderDevVars } from "../../scripts/lib/secrets";
import { flag, stringOption } from "../args";
import { type Command, type CommandContext, positional } from "../command";
import {
  type DevVarsFile,
  devVarsPath,
  jsonVariable,
  readDevVars,
  setDotenvValues,
  writeDevVars,
} from "../dev-vars";
import { CliError } from "../errors";

const RESTART =
  "restart the workers (npm run dev) to apply: both read .dev.vars only at start; in production, `wrangler secret put` SIGNING_KEYS (origin) and PUBLIC_JWKS (both)";

/** The origin's copy of .dev.vars, beside origin/wrangler.toml, when that folder exists. */
function originCopy(path: string): string | null {
  const folder = join(dirname(path), "origin");
  return existsSync(join(folder, "wrangler.toml")) ? join(folder, ".dev.vars") : null;
}

export const keysGenerateCommand: Command = {
  name: "keys generate",
  summary: "Print fresh secrets for a new installation (or --write .dev.vars)",
  usage: "keys generate [--write]",
  help: `Generates an Ed25519 snapshot-signing key, an Ed25519 read-token key, the public JWKS, an admin
HS256 secret and a purge secret, printed in .dev.vars (dotenv) syntax.

Options:
  --write   write them to .dev.vars (and origin/.dev.vars) — refused if .dev.vars exists`,
  options: { write: { type: "boolean" } },
  positionals: { min: 0, max: 0 },
  async run(ctx: CommandContext) {
    const secrets = await generateSecrets();
    const text = renderDevVars(secrets).replace(
      /^#.*\n/,
      "# fleetconf local secrets, from `fleetconf keys generate`. Never commit this file.\n",
    );
    if (!flag(ctx.values, "write")) {
      ctx.out.result(secrets, text);
      return 0;
    }
    const path = devVarsPath(stringOption(ctx.values, "dev-vars"), ctx.io.env, ctx.io.cwd);
    if (existsSync(path)) {
      throw new CliError(`${path} already exists; not overwriting it`, {
        code: "exists",
        hint: "use `fleetconf keys rotate` to change the signing key, or move the file aside first",
      });
    }
    const written = [path];
    await writeDevVars(path, text);
    const copy = originCopy(path);
    if (copy && !existsSync(copy)) {
      await writeDevVars(copy, text);
      written.push(copy);
    }
    ctx.out.result(
      { written },
      `${ctx.out.paint.green("✔")} wrote ${written.join(" and ")} (git-ignored; never commit it)`,
    );
    return 0;
  },
};

interface KeyFiles {
  file: DevVarsFile;
  signing: PrivateJwk[];
  publicKeys: PublicJwk[];
}

async function loadKeys(ctx: CommandContext): Promise<KeyFiles> {
  const path = devVarsPath(stringOption(ctx.values, "dev-vars"), ctx.io.env, ctx.io.cwd);
  const file = await readDevVars(path);
  if (!file)
    throw new CliError(`${path} not found`, {
      code: "no_dev_vars",
      hint: "run `npm run dev` once, or `fleetconf keys generate --write`",
    });
  let signing: unknown;
  let jwks: unknown;
  try {
    signing = jsonVariable(file.vars, "SIGNING_KEYS");
    jwks = jsonVariable(file.vars, "PUBLIC_JWKS");
  } catch {
    throw new CliError(`${path}: SIGNING_KEYS or PUBLIC_JWKS is not valid JSON`, { code: "bad_dev_vars" });
  }
  const keys = (jwks as { keys?: unknown } | undefined)?.keys;
  const isJwk = (k: unknown): k is PublicJwk =>
    typeof k === "object" &&
    k !== null &&
    typeof (k as PublicJwk).kid === "string" &&
    typeof (k as PublicJwk).x === "string";
  if (
    !Array.isArray(signing) ||
    signing.length === 0 ||
    !signing.every((k) => isJwk(k) && typeof (k as PrivateJwk).d === "string")
  ) {
    throw new CliError(`${path}: SIGNING_KEYS must be a non-empty JSON array of private JWKs`, {
      code: "bad_dev_vars",
    });
  }
  if (!Array.isArray(keys) || !keys.every(isJwk)) {
    throw new CliError(`${path}: PUBLIC_JWKS must be {"keys": [...]}`, { code: "bad_dev_vars" });
  }
  return { file, signing: signing as PrivateJwk[], publicKeys: keys };
}

async function saveKeys(
  file: DevVarsFile,
  signing: PrivateJwk[],
  publicKeys: PublicJwk[],
): Promise<string[]> {
  const text = setDotenvValues(file.text, {
    SIGNING_KEYS: JSON.stringify(signing),
    PUBLIC_JWKS: JSON.stringify({ keys: publicKeys }),
  });
  await writeDevVars(file.path, text);
  const written = [file.path];
  const copy = originCopy(file.path);
  // npm run dev keeps origin/.dev.vars an exact copy of the root file; keep it so.
  if (copy) {
    await writeDevVars(copy, text);
    written.push(copy);
  }
  return written;
}

export const keysRotateCommand: Command = {
  name: "keys rotate",
  summary: "Start signing snapshots with a new key; the old one stays trusted (local dev)",
  usage: "keys rotate",
  help: `Prepends a fresh Ed25519 key to SIGNING_KEYS in .dev.vars (and origin/.dev.vars): after a
restart the origin signs new versions with it. The previous keys stay in SIGNING_KEYS as retired
keys and in PUBLIC_JWKS, so snapshots they signed still verify at every client. Clients pinning
a JWKS must get the new one before the restart; clients pinning a trust root accept the new kid
only from a root version that lists it, signed by the previous root's keys (docs/cli.md).
Once every key you serve was republished with the new key, drop the old one with
\`fleetconf keys retire KID\`.`,
  options: {},
  positionals: { min: 0, max: 0 },
  async run(ctx: CommandContext) {
    const { file, signing, publicKeys } = await loadKeys(ctx);
    const fresh = await generateSigningJwk("snapshot");
    const written = await saveKeys(file, [fresh, ...signing], [publicPart(fresh), ...publicKeys]);
    const previous = signing[0]?.kid ?? "";
    const p = ctx.out.paint;
    ctx.out.result(
      { kid: fresh.kid, retired: signing.map((k) => k.kid), written },
      `${p.green("✔")} new signing key ${p.bold(fresh.kid)}; ${previous} is retired but still trusted\n` +
        `${p.yellow("next:")} ${RESTART}`,
    );
    return 0;
  },
};

export const keysRetireCommand: Command = {
  name: "keys retire",
  summary: "Remove a retired snapshot key from SIGNING_KEYS and PUBLIC_JWKS (local dev)",
  usage: "keys retire KID",
  help: `Removes a key that no longer signs (not the first of SIGNING_KEYS) from SIGNING_KEYS and from
PUBLIC_JWKS. Snapshots it signed stop verifying at clients, so retire a key only after every key
still served was published (or rolled back) again under the current key.`,
  options: {},
  positionals: { min: 1, max: 1 },
  async run(ctx: CommandContext) {
    const kid = positional(ctx, 0);
    const { file, signing, publicKeys } = await loadKeys(ctx);
    if (signing[0]?.kid === kid) {
      throw new CliError(`${kid} is the active signing key`, {
        code: "active_key",
        hint: "run `fleetconf keys rotate` first",
      });
    }
    const publicKey = publicKeys.find((k) => k.kid === kid);
    if (!signing.some((k) => k.kid === kid) && !publicKey)
      throw new CliError(`no key with kid ${kid}`, { code: "unknown_kid" });
    if (publicKey && publicKey.purpose === "read-token") {
      throw new CliError(`${kid} is a read-token key, not a snapshot key`, { code: "wrong_purpose" });
    }
    const written = await saveKeys(
      file,
      signing.filter((k) => k.kid !== kid),
      publicKeys.filter((k) => k.kid !== kid),
    );
    ctx.out.result(
      { retired: kid, written },
      `${ctx.out.paint.green("✔")} retired ${kid}\n${ctx.out.paint.yellow("next:")} ${RESTART}`,
    );
    return 0;
  },
};
