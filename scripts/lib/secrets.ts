/**
 * The one secrets module: fresh secrets for one fleetconf installation (Ed25519 snapshot-signing
 * and read-token keys, the public JWKS both workers publish, the admin HS256 secret and the purge
 * secret) and their `.dev.vars` / `--env-file` (dotenv) syntax (the grammar wrangler reads). Used by
 * `npm run dev`, `fleetconf keys generate`, the vitest config, the e2e harness and the bench.
 * Built on node:crypto (synchronous) so a module-level `generateSecrets()` needs no await.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import type { PrivateJwk } from "../../core";

// A type alias, not an interface, so it is assignable to `Record<string, string>` (renderDotenv).
export type FleetconfSecrets = {
  SIGNING_KEYS: string;
  TOKEN_KEYS: string;
  PUBLIC_JWKS: string;
  ADMIN_JWT_SECRET: string;
  PURGE_SECRET: string;
};

export type SecretName = keyof FleetconfSecrets;

/** Every secret name, in the order `.dev.vars` lists them. */
export const SECRET_NAMES: readonly SecretName[] = [
  "SIGNING_KEYS",
  "TOKEN_KEYS",
  "PUBLIC_JWKS",
  "ADMIN_JWT_SECRET",
  "PURGE_SECRET",
];

/** The secrets the edge needs; it never sees a private key or the admin secret (docs/deploy.md). */
export const EDGE_SECRET_NAMES: readonly SecretName[] = ["PUBLIC_JWKS", "PURGE_SECRET"];

/** A fresh private Ed25519 JWK (RFC 8037) with a random kid. */
export function generateJwk(purpose: "snapshot" | "read-token"): PrivateJwk {
  const { privateKey } = generateKeyPairSync("ed25519");
  const { x, d } = privateKey.export({ format: "jwk" });
  if (typeof x !== "string" || typeof d !== "string") throw new Error("Ed25519 JWK export failed");
  const kid = `${purpose === "snapshot" ? "s" : "t"}-${randomBytes(9).toString("base64url")}`;
  return { kty: "OKP", crv: "Ed25519", x, d, kid, alg: "EdDSA", use: "sig", purpose };
}

/** Fresh Ed25519 snapshot and read-token keys, admin HS256 secret and purge secret. */
export function generateSecrets(): FleetconfSecrets {
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
  secrets: Partial<Record<string, string>>,
  header = "fleetconf local secrets, written by npm run dev. Never commit this file.",
): string {
  const lines = Object.entries(secrets).map(([name, value = ""]) => {
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
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const source = text.replace(/\r\n?/g, "\n");
  for (const match of source.matchAll(DOTENV_LINE)) {
    let value = (match[2] ?? "").trim();
    const quote = value[0];
    value = value.replace(/^(['"`])([\s\S]*)\1$/gm, "$2");
    if (quote === '"') value = value.replace(/\\n/g, "\n").replace(/\\r/g, "\r");
    if (match[1] !== undefined) out[match[1]] = value;
  }
  return out;
}

function isJsonWith(value: string, check: (parsed: unknown) => boolean): boolean {
  try {
    return check(JSON.parse(value));
  } catch {
    return false;
  }
}

/** Why these secrets would not work in the workers (as wrangler hands them over); empty if fine. */
export function secretProblems(values: Partial<Record<string, string>>): string[] {
  const problems = missingSecrets(values).map((name) => `${name} is missing`);
  const hasPrivatePart = (k: unknown) =>
    typeof k === "object" && k !== null && "d" in k && typeof k.d === "string";
  const keyList = (v: unknown) => Array.isArray(v) && v.length > 0 && v.every(hasPrivatePart);
  const jwks = (v: unknown) => typeof v === "object" && v !== null && "keys" in v && Array.isArray(v.keys);
  for (const name of ["SIGNING_KEYS", "TOKEN_KEYS"] as const) {
    const value = values[name];
    if (value && !isJsonWith(value, keyList)) {
      problems.push(`${name} is not a JSON array of private JWKs`);
    }
  }
  if (values.PUBLIC_JWKS && !isJsonWith(values.PUBLIC_JWKS, jwks)) {
    problems.push('PUBLIC_JWKS is not a JSON {"keys": [...]} document');
  }
  return problems;
}

/**
 * Reads double-quoted values as JSON string literals (`NAME="{\"a\":1}"`), the way a file
 * written with JSON.stringify meant them, so such a file can be rewritten in wrangler's syntax.
 */
export function parseJsonQuotedDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)\s*=\s*("(?:[^"\\]|\\.)*")\s*$/.exec(line);
    if (match?.[1] === undefined || match[2] === undefined) continue;
    try {
      const value: unknown = JSON.parse(match[2]);
      if (typeof value === "string") out[match[1]] = value;
    } catch {
      // Not a JSON string literal: leave it out, validation will say what is missing.
    }
  }
  return out;
}

/** The names a secrets object lacks, so callers can refuse a half-written `.dev.vars`. */
export function missingSecrets(values: Partial<Record<string, string>>): SecretName[] {
  return SECRET_NAMES.filter((name) => !values[name]);
}
