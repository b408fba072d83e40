/**
 * Secrets for one local fleetconf installation, in plain JS so `npm run dev`, the vitest config
 * and the e2e harness can use them without a TypeScript loader. Mirrors `scripts/secrets.ts`
 * (the CLI's copy, built on core): same names, same JWK shape, same `.dev.vars` syntax.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { SignJWT } from "jose";

/** Every secret name, in the order `.dev.vars` lists them. */
export const SECRET_NAMES = ["SIGNING_KEYS", "TOKEN_KEYS", "PUBLIC_JWKS", "ADMIN_JWT_SECRET", "PURGE_SECRET"];

/** The secrets the edge needs; it never sees a private key or the admin secret (docs/deploy.md). */
export const EDGE_SECRET_NAMES = ["PUBLIC_JWKS", "PURGE_SECRET"];

/** A fresh private Ed25519 JWK with a random kid; `purpose` is "snapshot" or "read-token". */
export function generateJwk(purpose) {
  const { privateKey } = generateKeyPairSync("ed25519");
  const jwk = privateKey.export({ format: "jwk" });
  const kid = `${purpose === "snapshot" ? "s" : "t"}-${randomBytes(9).toString("base64url")}`;
  return { kty: "OKP", crv: "Ed25519", x: jwk.x, d: jwk.d, kid, alg: "EdDSA", use: "sig", purpose };
}

/** Fresh Ed25519 snapshot and read-token keys, admin HS256 secret and purge secret. */
export function generateSecrets() {
  const signing = [generateJwk("snapshot")];
  const token = [generateJwk("read-token")];
  const publicKeys = [...signing, ...token].map(({ d: _d, ...rest }) => rest);
  return {
    SIGNING_KEYS: JSON.stringify(signing),
    TOKEN_KEYS: JSON.stringify(token),
    PUBLIC_JWKS: JSON.stringify({ keys: publicKeys }),
    ADMIN_JWT_SECRET: randomBytes(32).toString("base64url"),
    PURGE_SECRET: randomBytes(32).toString("base64url"),
  };
}

/**
 * Renders secrets as dotenv (`.dev.vars`, `--env-file`): one `NAME='value'` a line. Single quotes
 * keep JSON's double quotes literal; none of the values can contain a single quote or newline.
 */
export function renderDotenv(
  secrets,
  header = "fleetconf local secrets, written by npm run dev. Never commit this file.",
) {
  const lines = Object.entries(secrets).map(([name, value]) => {
    if (/['\n]/.test(value)) throw new Error(`${name} cannot be written to a dotenv file`);
    return `${name}='${value}'`;
  });
  return `# ${header}\n${lines.join("\n")}\n`;
}

// The dotenv grammar wrangler 4 reads `.dev.vars` and `--env-file`s with (dotenv's `parse`):
// quotes are stripped, and inside double quotes only \n and \r are unescaped, never \".
const DOTENV_LINE =
  /(?:^|^)\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?(?:$|$)/gm;

/** Parses dotenv text exactly as wrangler will see it. */
export function parseDotenv(text) {
  const out = {};
  const source = text.replace(/\r\n?/g, "\n");
  for (const match of source.matchAll(DOTENV_LINE)) {
    let value = (match[2] ?? "").trim();
    const quote = value[0];
    value = value.replace(/^(['"`])([\s\S]*)\1$/gm, "$2");
    if (quote === '"') value = value.replace(/\\n/g, "\n").replace(/\\r/g, "\r");
    out[match[1]] = value;
  }
  return out;
}

function isJsonWith(value, check) {
  try {
    return check(JSON.parse(value));
  } catch {
    return false;
  }
}

/** Why these secrets would not work in the workers (as wrangler hands them over); empty if fine. */
export function secretProblems(values) {
  const problems = missingSecrets(values).map((name) => `${name} is missing`);
  const keyList = (v) => Array.isArray(v) && v.length > 0 && v.every((k) => typeof k?.d === "string");
  for (const name of ["SIGNING_KEYS", "TOKEN_KEYS"]) {
    if (values[name] && !isJsonWith(values[name], keyList)) {
      problems.push(`${name} is not a JSON array of private JWKs`);
    }
  }
  if (values.PUBLIC_JWKS && !isJsonWith(values.PUBLIC_JWKS, (v) => Array.isArray(v?.keys))) {
    problems.push('PUBLIC_JWKS is not a JSON {"keys": [...]} document');
  }
  return problems;
}

/**
 * Reads double-quoted values as JSON string literals (`NAME="{\"a\":1}"`), the way a file
 * written with JSON.stringify meant them, so such a file can be rewritten in wrangler's syntax.
 */
export function parseJsonQuotedDotenv(text) {
  const out = {};
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)\s*=\s*("(?:[^"\\]|\\.)*")\s*$/.exec(line);
    if (!match) continue;
    try {
      out[match[1]] = JSON.parse(match[2]);
    } catch {
      // Not a JSON string literal: leave it out, validation will say what is missing.
    }
  }
  return out;
}

/** The names a secrets object lacks, so callers can refuse a half-written `.dev.vars`. */
export function missingSecrets(values) {
  return SECRET_NAMES.filter((name) => typeof values[name] !== "string" || values[name].length === 0);
}

/**
 * Mints an HS256 admin token (DESIGN §5): `aud` fleetconf-admin, space-separated `scope`, `exp`.
 * Same claims as core's `mintAdminToken`, usable from plain JS.
 */
export async function mintDevAdminToken(
  secret,
  { scope = "admin", sub = "dev", ttlSeconds = 12 * 3600 } = {},
) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ scope })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setAudience("fleetconf-admin")
    .setSubject(sub)
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(new TextEncoder().encode(secret));
}
