/**
 * The trust root on the admin's side (DESIGN §8, core/trust-root.ts): `keys root-key` makes a
 * root signing key file, and `keys rotate --root` (or `--init`) writes the next signed root
 * document from key files on disk — the current root's private keys sign it (a threshold of them
 * is what clients require), and so do the new root's own keys. The document is checked against
 * the chain exactly as a client will check it before it is written, and `--publish` stores it at
 * the origin (`PUT /v1/roots/{N}`), which checks it again and hands it to the edge.
 */
import { readFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { writeFileAtomic } from "../../client/cache-file";
import {
  canonicalJson,
  generateSigningJwk,
  type PrivateJwk,
  type PublicJwk,
  parseRootText,
  publicPart,
  ROOT_TYPE,
  type RootDocument,
  type RootSigned,
  rootKeysOf,
  signRoot,
  verifyPinnedRoot,
  verifyRootSuccessor,
} from "../../core";
import { flag, parseDuration, stringOption } from "../args";
import type { Command, CommandContext } from "../command";
import { devVarsPath, jsonVariable, readDevVars } from "../dev-vars";
import { CliError, UsageError } from "../errors";

const NAME = "keys rotate";
const DEFAULT_ROOT_LIFETIME = 365 * 86_400;

export const ROOT_ROTATE_OPTIONS = {
  root: { type: "string" },
  init: { type: "boolean" },
  sign: { type: "string", multiple: true },
  "add-root-key": { type: "string", multiple: true },
  revoke: { type: "string", multiple: true },
  jwks: { type: "string" },
  threshold: { type: "string" },
  expires: { type: "string" },
  out: { type: "string" },
  publish: { type: "boolean" },
} as const;

export const ROOT_ROTATE_HELP = `With --root CURRENT.json (or --init for the first root): writes the next signed trust root.
  --sign FILE          a private root key of the current root (repeat for a threshold); with
                       --init, the new root's keys
  --add-root-key FILE  a new root key (private: it signs the new root too); repeatable
  --revoke KID         drop a key and list it as revoked (a compromised one); repeatable
  --jwks FILE          the snapshot keys to list (default: PUBLIC_JWKS of .dev.vars)
  --threshold N        root signatures required (default: the current root's, 1 for --init)
  --expires DURATION   lifetime (default 365d); clients refuse new snapshots past it
  --out FILE           where to write it (default root.v<N>.json)
  --publish            also store it at the origin (PUT /v1/roots/<N>); the edge then serves it
Make root keys with \`fleetconf keys root-key --out FILE\` and keep them offline.`;

const strings = (ctx: CommandContext, name: string): string[] => {
  const value = ctx.values[name];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
};

async function readJson(ctx: CommandContext, file: string): Promise<unknown> {
  const path = isAbsolute(file) ? file : join(ctx.io.cwd, file);
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`, { code: "bad_file" });
  }
}

async function privateRootKey(ctx: CommandContext, file: string): Promise<PrivateJwk> {
  const jwk = (await readJson(ctx, file)) as Partial<PrivateJwk>;
  if (
    jwk?.kty !== "OKP" ||
    jwk.crv !== "Ed25519" ||
    typeof jwk.d !== "string" ||
    typeof jwk.kid !== "string"
  ) {
    throw new CliError(`${file} is not an Ed25519 private JWK with a kid`, { code: "bad_key" });
  }
  return { ...(jwk as PrivateJwk), purpose: "root" };
}

async function snapshotKeys(ctx: CommandContext): Promise<PublicJwk[]> {
  const file = stringOption(ctx.values, "jwks");
  let jwks: unknown;
  if (file) jwks = await readJson(ctx, file);
  else {
    const path = devVarsPath(stringOption(ctx.values, "dev-vars"), ctx.io.env, ctx.io.cwd);
    const vars = (await readDevVars(path))?.vars;
    if (!vars) throw new UsageError(`no --jwks and no ${path} to take PUBLIC_JWKS from`, NAME);
    jwks = jsonVariable(vars, "PUBLIC_JWKS");
  }
  const keys = (jwks as { keys?: unknown })?.keys;
  if (!Array.isArray(keys)) throw new CliError("the JWKS has no keys array", { code: "bad_jwks" });
  // Only snapshot keys: a read-token key has no place in a root (clients never verify with it).
  return (keys as PublicJwk[])
    .filter((k) => (k.purpose ?? "snapshot") === "snapshot")
    .map((k) => {
      const { d: _d, ...pub } = k as PublicJwk & { d?: string };
      return pub as PublicJwk;
    });
}

export async function rotateRoot(ctx: CommandContext): Promise<number> {
  const init = flag(ctx.values, "init");
  const rootFile = stringOption(ctx.values, "root");
  if (init === (rootFile !== undefined))
    throw new UsageError("give either --root CURRENT.json or --init", NAME);
  let current: RootDocument | null = null;
  if (rootFile) {
    const parsed = parseRootText(JSON.stringify(await readJson(ctx, rootFile)));
    if (!parsed.ok) throw new CliError(`${rootFile}: ${parsed.reason}`, { code: "bad_root" });
    current = parsed.value;
  }
  const signers = await Promise.all(strings(ctx, "sign").map((f) => privateRootKey(ctx, f)));
  const added = await Promise.all(strings(ctx, "add-root-key").map((f) => privateRootKey(ctx, f)));
  if (signers.length === 0)
    throw new UsageError("at least one --sign FILE (a root private key) is needed", NAME);
  const revoke = new Set(strings(ctx, "revoke"));
  const thresholdRaw = stringOption(ctx.values, "threshold");
  const threshold = thresholdRaw === undefined ? (current?.signed.threshold ?? 1) : Number(thresholdRaw);
  if (!Number.isSafeInteger(threshold) || threshold < 1)
    throw new UsageError("--threshold must be a positive integer", NAME);
  const expiresRaw = stringOption(ctx.values, "expires");
  const lifetime =
    expiresRaw === undefined ? DEFAULT_ROOT_LIFETIME : parseDuration(expiresRaw, "--expires", NAME);

  // Root keys: the current root's (or, for the first root, the signers'), plus the added ones,
  // minus the revoked; snapshot keys from the JWKS, minus the revoked.
  const baseRoot = current ? rootKeysOf(current.signed) : signers.map(publicPart);
  const rootKeys = [...baseRoot, ...added.map(publicPart)].filter(
    (k, i, all) => !revoke.has(k.kid) && all.findIndex((o) => o.kid === k.kid) === i,
  );
  const keys = [...rootKeys, ...(await snapshotKeys(ctx)).filter((k) => !revoke.has(k.kid))];
  const signed: RootSigned = {
    type: ROOT_TYPE,
    version: (current?.signed.version ?? 0) + 1,
    expires: new Date(Math.floor(Date.now() / 1000 + lifetime) * 1000).toISOString().replace(".000Z", "Z"),
    threshold,
    keys,
    revoked: [...new Set([...(current?.signed.revoked ?? []), ...revoke])],
  };
  // Every key that can sign does: the current root's holders and the new root's own keys.
  const signing = [...signers, ...added].filter((k, i, all) => all.findIndex((o) => o.kid === k.kid) === i);
  const next = await signRoot(signed, signing);
  const verdict = current ? await verifyRootSuccessor(current.signed, next) : await verifyPinnedRoot(next);
  if (!verdict.ok) {
    throw new CliError(`the new root would be refused by clients: ${verdict.reason}`, {
      code: "root_refused",
      hint: "sign with a threshold of the current root's keys (--sign) and of the new root's own",
    });
  }
  const out = stringOption(ctx.values, "out") ?? `root.v${signed.version}.json`;
  const outPath = isAbsolute(out) ? out : join(ctx.io.cwd, out);
  await writeFileAtomic(outPath, new TextEncoder().encode(`${canonicalJson(next)}\n`), 0o644);
  const p = ctx.out.paint;
  let published: unknown = null;
  if (flag(ctx.values, "publish")) published = await (await ctx.api()).putRoot(next, signed.version);
  ctx.out.result(
    {
      version: signed.version,
      file: outPath,
      keys: keys.map((k) => k.kid),
      revoked: signed.revoked,
      published,
    },
    `${p.green("✔")} root v${signed.version} (${rootKeys.length} root keys, threshold ${threshold}, ${keys.length - rootKeys.length} snapshot keys) → ${out}` +
      (published
        ? `\n${p.green("✔")} stored at the origin; the edge serves it at /.well-known/fleetconf-root.json`
        : ""),
  );
  return 0;
}

export const keysRootKeyCommand: Command = {
  name: "keys root-key",
  summary: "Generate a root signing key (a private JWK file, mode 0600) for the trust root",
  usage: "keys root-key --out FILE",
  help: `Writes a fresh Ed25519 private key with purpose "root" to FILE (0600) and prints its kid. Root keys
sign trust roots only (\`keys rotate --root\`); keep them offline, one per holder, and use a
threshold above 1 so no single lost or stolen key decides what every client trusts.`,
  options: { out: { type: "string" } },
  positionals: { min: 0, max: 0 },
  async run(ctx: CommandContext) {
    const out = stringOption(ctx.values, "out");
    if (!out) throw new UsageError("--out FILE is required", "keys root-key");
    const jwk = await generateSigningJwk("root");
    const path = isAbsolute(out) ? out : join(ctx.io.cwd, out);
    await writeFileAtomic(path, new TextEncoder().encode(`${JSON.stringify(jwk)}\n`), 0o600);
    ctx.out.result({ kid: jwk.kid, file: path }, `${ctx.out.paint.green("✔")} root key ${jwk.kid} → ${out}`);
    return 0;
  },
};
