export interface FleetconfSecrets {
  SIGNING_KEYS: string;
  TOKEN_KEYS: string;
  PUBLIC_JWKS: string;
  ADMIN_JWT_SECRET: string;
  PURGE_SECRET: string;
}
export type SecretName = keyof FleetconfSecrets;
export const SECRET_NAMES: readonly SecretName[];
export const EDGE_SECRET_NAMES: readonly SecretName[];
export interface PrivateEd25519Jwk {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
  d: string;
  kid: string;
  alg: "EdDSA";
  use: "sig";
  purpose: "snapshot" | "read-token";
}
export function generateJwk(purpose: "snapshot" | "read-token"): PrivateEd25519Jwk;
export function generateSecrets(): FleetconfSecrets;
export function renderDotenv(secrets: Record<string, string>, header?: string): string;
/** Parses dotenv text exactly as wrangler 4 reads `.dev.vars` / `--env-file`. */
export function parseDotenv(text: string): Record<string, string>;
export function secretProblems(values: Record<string, string | undefined>): string[];
export function parseJsonQuotedDotenv(text: string): Record<string, string>;
export function missingSecrets(values: Record<string, string | undefined>): SecretName[];
export function mintDevAdminToken(
  secret: string,
  options?: { scope?: string; sub?: string; ttlSeconds?: number },
): Promise<string>;
