/**
 * Read-token checks at the edge (DESIGN §5): EdDSA JWTs verified against the read-token keys of
 * PUBLIC_JWKS, with no call to the origin. A verified token is remembered (keyed by the token
 * string, never logged) until its `exp`, so a client polling every few seconds costs one
 * signature check per token lifetime per isolate instead of one per request.
 */
import type { JWTVerifyGetKey } from "jose";
import { bearerToken, type Jwks, localReadTokenKeys, type VerifiedToken, verifyReadToken } from "../../core";

export const VERIFIED_TOKEN_CAPACITY = 10_000;

/** Verified tokens until their expiry, at most `capacity` of them (the oldest go first). */
export class VerifiedTokens {
  readonly capacity: number;
  readonly #tokens = new Map<string, VerifiedToken>();

  constructor(capacity = VERIFIED_TOKEN_CAPACITY) {
    this.capacity = capacity;
  }

  get size(): number {
    return this.#tokens.size;
  }

  get(token: string, nowSeconds: number): VerifiedToken | undefined {
    const known = this.#tokens.get(token);
    if (known === undefined) return undefined;
    // Same rule as jose's exp check (RFC 7519 §4.1.4): expired once now >= exp.
    if (known.exp <= nowSeconds) {
      this.#tokens.delete(token);
      return undefined;
    }
    return known;
  }

  remember(token: string, verified: VerifiedToken): void {
    this.#tokens.delete(token);
    if (this.#tokens.size >= this.capacity) {
      const oldest = this.#tokens.keys().next();
      if (!oldest.done) this.#tokens.delete(oldest.value);
    }
    this.#tokens.set(token, verified);
  }
}

export class ReadTokenGate {
  readonly #getKey: JWTVerifyGetKey;
  readonly #now: () => number;
  readonly #verified: VerifiedTokens;

  constructor(jwks: Jwks, now: () => number, capacity = VERIFIED_TOKEN_CAPACITY) {
    this.#getKey = localReadTokenKeys(jwks);
    this.#now = now;
    this.#verified = new VerifiedTokens(capacity);
  }

  /** Checks an Authorization header; throws `unauthorized` (401) for a missing or invalid token. */
  async verify(authorization: string | undefined): Promise<VerifiedToken> {
    const token = bearerToken(authorization);
    const nowSeconds = Math.floor(this.#now() / 1000);
    const known = this.#verified.get(token, nowSeconds);
    if (known !== undefined) return known;
    const verified = await verifyReadToken(token, this.#getKey, nowSeconds);
    this.#verified.remember(token, verified);
    return verified;
  }

  get remembered(): number {
    return this.#verified.size;
  }
}
