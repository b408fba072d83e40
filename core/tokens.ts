/**
 * JWT minting and verification with jose (DESIGN §5). `exp` is required, algorithms are
 * allow-listed per token kind (never `none`), and every failure is `unauthorized` (401) so a
 * caller learns nothing about why; a missing scope is decided by the caller (403).
 */
import {
  createLocalJWKSet,
  importJWK,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
  SignJWT,
} from "jose";
import { utf8Bytes } from "./encoding";
import { FleetconfError } from "./errors";
import type { Jwks, PrivateJwk } from "./jws";
import { ADMIN_AUDIENCE, parseScope, READ_AUDIENCE } from "./scopes";

/** Tokens longer than this are refused before any parsing: bounds the work an attacker can cause. */
export const MAX_TOKEN_LENGTH = 4096;
/**
 * 30 days: a read token is a bearer credential on every host of a fleet, and the edge cannot
 * revoke one short of rotating TOKEN_KEYS, so it must not outlive its minter's access by long. The
 * edge also refuses any token whose `iat` is older than this (jose maxTokenAge), so a token minted
 * before the cap with a longer `exp` stops working 30 days after it was issued.
 */
export const MAX_READ_TOKEN_TTL = 30 * 86400;
export const ADMIN_ALGORITHMS_OIDC = ["RS256", "ES256", "EdDSA", "PS256"];

export interface VerifiedToken {
  sub: string;
  scopes: string[];
  /** Expiry, seconds since the epoch. */
  exp: number;
}

export function bearerToken(authorization: string | null | undefined): string {
  if (!authorization) throw unauthorized("An Authorization: Bearer token is required.");
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(authorization.trim());
  if (!match?.[1]) throw unauthorized("The Authorization header must be 'Bearer <token>'.");
  if (match[1].length > MAX_TOKEN_LENGTH) throw unauthorized("The token is too long.");
  return match[1];
}

export function unauthorized(detail: string): FleetconfError {
  return new FleetconfError("unauthorized", detail, {
    headers: { "WWW-Authenticate": 'Bearer realm="fleetconf"' },
  });
}

function toVerified(payload: JWTPayload): VerifiedToken {
  if (typeof payload.exp !== "number") throw unauthorized("The token has no exp.");
  return {
    sub: typeof payload.sub === "string" ? payload.sub : "unknown",
    scopes: parseScope(payload.scope),
    exp: payload.exp,
  };
}

export type AdminKeySource =
  | { kind: "secret"; secret: string }
  | { kind: "jwks"; getKey: JWTVerifyGetKey; issuer?: string };

export async function verifyAdminToken(
  token: string,
  source: AdminKeySource,
  nowSeconds?: number,
): Promise<VerifiedToken> {
  try {
    const options = {
      audience: ADMIN_AUDIENCE,
      requiredClaims: ["exp"],
      ...(nowSeconds === undefined ? {} : { currentDate: new Date(nowSeconds * 1000) }),
    };
    const { payload } =
      source.kind === "secret"
        ? await jwtVerify(token, utf8Bytes(source.secret), { ...options, algorithms: ["HS256"] })
        : await jwtVerify(token, source.getKey, {
            ...options,
            algorithms: ADMIN_ALGORITHMS_OIDC,
            ...(source.issuer ? { issuer: source.issuer } : {}),
          });
    return toVerified(payload);
  } catch (error) {
    if (error instanceof FleetconfError) throw error;
    throw unauthorized("The token is invalid or expired.");
  }
}

export function localReadTokenKeys(jwks: Jwks): JWTVerifyGetKey {
  return createLocalJWKSet({ keys: jwks.keys.filter((k) => k.purpose === "read-token") } as Parameters<
    typeof createLocalJWKSet
  >[0]);
}

export async function verifyReadToken(
  token: string,
  getKey: JWTVerifyGetKey,
  nowSeconds?: number,
): Promise<VerifiedToken> {
  try {
    const { payload } = await jwtVerify(token, getKey, {
      audience: READ_AUDIENCE,
      algorithms: ["EdDSA", "Ed25519"],
      requiredClaims: ["exp", "iat"],
      maxTokenAge: MAX_READ_TOKEN_TTL,
      ...(nowSeconds === undefined ? {} : { currentDate: new Date(nowSeconds * 1000) }),
    });
    return toVerified(payload);
  } catch (error) {
    if (error instanceof FleetconfError) throw error;
    throw unauthorized("The token is invalid or expired.");
  }
}

export async function mintReadToken(
  jwk: PrivateJwk,
  params: { scope: string; ttlSeconds: number; sub: string; nowSeconds?: number },
): Promise<string> {
  const key = await importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, d: jwk.d }, "EdDSA");
  const now = params.nowSeconds ?? Math.floor(Date.now() / 1000);
  return new SignJWT({ scope: params.scope })
    .setProtectedHeader({ alg: "EdDSA", kid: jwk.kid, typ: "JWT" })
    .setAudience(READ_AUDIENCE)
    .setSubject(params.sub)
    .setIssuedAt(now)
    .setExpirationTime(now + params.ttlSeconds)
    .setJti(crypto.randomUUID())
    .sign(key);
}

/** Mints an HS256 admin token (local development and tests; production uses an OIDC issuer). */
export async function mintAdminToken(
  secret: string,
  params: { scope: string; ttlSeconds: number; sub: string; nowSeconds?: number },
): Promise<string> {
  const now = params.nowSeconds ?? Math.floor(Date.now() / 1000);
  return new SignJWT({ scope: params.scope })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setAudience(ADMIN_AUDIENCE)
    .setSubject(params.sub)
    .setIssuedAt(now)
    .setExpirationTime(now + params.ttlSeconds)
    .sign(utf8Bytes(secret));
}
