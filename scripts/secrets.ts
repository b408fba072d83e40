/**
 * Fresh secrets for one fleetconf installation: the snapshot-signing and read-token Ed25519 keys,
 * the admin HS256 secret and the purge secret, plus the public JWKS both workers publish.
 * Used by `npm run dev` (written to .dev.vars), `fleetconf keys generate`, and the tests.
 */
import { generateSigningJwk, type PrivateJwk, publicPart, toBase64Url } from "../core";

export interface FleetconfSecrets {
  SIGNING_KEYS: string;
  TOKEN_KEYS: string;
  PUBLIC_JWKS: string;
  ADMIN_JWT_SECRET: string;
  PURGE_SECRET: string;
}

export function randomSecret(bytes = 32): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

export function publicJwksOf(signing: PrivateJwk[], token: PrivateJwk[]): string {
  return JSON.stringify({ keys: [...signing, ...token].map(publicPart) });
}

export async function generateSecrets(): Promise<FleetconfSecrets> {
  const signing = [await generateSigningJwk("snapshot")];
  const token = [await generateSigningJwk("read-token")];
  return {
    SIGNING_KEYS: JSON.stringify(signing),
    TOKEN_KEYS: JSON.stringify(token),
    PUBLIC_JWKS: publicJwksOf(signing, token),
    ADMIN_JWT_SECRET: randomSecret(),
    PURGE_SECRET: randomSecret(),
  };
}

/** Renders secrets in .dev.vars syntax (dotenv: one KEY=value a line, JSON single-quoted). */
export function renderDevVars(secrets: FleetconfSecrets): string {
  const lines = Object.entries(secrets).map(([name, value]) => `${name}='${value}'`);
  return `# fleetconf local secrets, written by npm run dev. Never commit this file.\n${lines.join("\n")}\n`;
}

export function parseDevVars(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (!match?.[1] || match[2] === undefined) continue;
    let value = match[2];
    if ((value.startsWith("'") && value.endsWith("'")) || (value.startsWith('"') && value.endsWith('"'))) {
      value = value.slice(1, -1);
    }
    out[match[1]] = value;
  }
  return out;
}
