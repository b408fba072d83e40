export interface TestSecrets {
  SIGNING_KEYS: string;
  TOKEN_KEYS: string;
  PUBLIC_JWKS: string;
  ADMIN_JWT_SECRET: string;
  PURGE_SECRET: string;
}
export function testSecrets(): TestSecrets;
