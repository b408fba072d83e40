// Fresh secrets for one test run, made with node:crypto so the vitest config (loaded natively by
// Node) imports no TypeScript. Mirrors scripts/secrets.ts, which the CLI and `npm run dev` use.
import { generateKeyPairSync, randomBytes } from "node:crypto";

function ed25519(purpose) {
  const { privateKey } = generateKeyPairSync("ed25519");
  const jwk = privateKey.export({ format: "jwk" });
  const kid = `${purpose === "snapshot" ? "s" : "t"}-${randomBytes(9).toString("base64url")}`;
  return { kty: "OKP", crv: "Ed25519", x: jwk.x, d: jwk.d, kid, alg: "EdDSA", use: "sig", purpose };
}

export function testSecrets() {
  const signing = [ed25519("snapshot")];
  const token = [ed25519("read-token")];
  const pub = [...signing, ...token].map(({ d: _d, ...rest }) => rest);
  return {
    SIGNING_KEYS: JSON.stringify(signing),
    TOKEN_KEYS: JSON.stringify(token),
    PUBLIC_JWKS: JSON.stringify({ keys: pub }),
    ADMIN_JWT_SECRET: randomBytes(32).toString("base64url"),
    PURGE_SECRET: randomBytes(32).toString("base64url"),
  };
}
