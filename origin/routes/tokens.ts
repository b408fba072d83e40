/**
 * `POST /v1/tokens`: mints a read token (DESIGN §5) for `read:{namespace}` or `read:*`, signed
 * EdDSA with the first TOKEN_KEYS key, which the edge verifies from the JWKS. The caller must
 * itself cover the scope it hands out (`read:*` needs admin). The mint is audited with its scope
 * and expiry; the token itself is never stored or logged.
 */
import { type Context, Hono } from "hono";
import { annotate, FleetconfError, isReadScope, MAX_READ_TOKEN_TTL, mintReadToken } from "../../core";
import type { OriginApp } from "../app-env";
import { optionalInteger, readControlObject } from "../http/body";
import { requireScope } from "../middleware/admin-auth";

export const DEFAULT_READ_TOKEN_TTL = 86_400;
export const MIN_READ_TOKEN_TTL = 60;
/** The audit log for changes that belong to no one namespace (`read:*` tokens). */
export const GLOBAL_STORE = "*";

export function tokenRoutes(): Hono<OriginApp> {
  const routes = new Hono<OriginApp>();
  routes.post("/", mintToken);
  return routes;
}

async function mintToken(c: Context<OriginApp>): Promise<Response> {
  const body = await readControlObject(c.req.raw, ["scope", "ttl"]);
  const scope = body.scope;
  if (typeof scope !== "string" || !isReadScope(scope)) {
    throw new FleetconfError("invalid_request", 'scope must be "read:<namespace>" or "read:*".');
  }
  const ttl = optionalInteger(body, "ttl", MIN_READ_TOKEN_TTL, MAX_READ_TOKEN_TTL) ?? DEFAULT_READ_TOKEN_TTL;
  const namespace = scope.slice("read:".length);
  requireScope(c, namespace === "*" ? { action: "admin" } : { action: "read", namespace });
  annotate(c, { scope, ttl });

  const { config, store } = c.get("services");
  const caller = c.get("caller");
  const now = Math.floor(Date.now() / 1000);
  const token = await mintReadToken(config.tokenKey, {
    scope,
    ttlSeconds: ttl,
    sub: caller.sub,
    nowSeconds: now,
  });
  const expiresAt = (now + ttl) * 1000;
  // Audited before the token is handed out: an unaudited token never leaves the origin.
  await store(namespace === "*" ? GLOBAL_STORE : namespace).recordToken({
    actor: caller.sub,
    scope,
    expiresAt,
  });
  // RFC 6749 §5.1: responses carrying tokens must not be cached.
  c.header("Cache-Control", "no-store");
  return c.json({ token, scope, expiresAt: new Date(expiresAt).toISOString() });
}
