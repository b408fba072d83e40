/**
 * `POST /v1/tokens`: mints a read token (DESIGN §5) for `read:{namespace}` or `read:*`, signed
 * EdDSA with the first TOKEN_KEYS key, which the edge verifies from the JWKS. The caller must
 * itself cover the scope it hands out (`read:*` needs admin), so the scope is checked after the
 * (≤ 16 KiB) body is read: the body names it. The mint is audited with its scope and expiry; the
 * token itself is never stored or logged.
 */
import { createRoute } from "@hono/zod-openapi";
import { annotate, mintReadToken } from "../../core";
import { TokenDocument, TokenRequest } from "../contract";
import { strictJsonBody } from "../http/body";
import { declaredRoutes, problems } from "../http/declared-routes";
import { requireScope } from "../middleware/admin-auth";

/** The audit log for changes that belong to no one namespace (`read:*` tokens). */
export const GLOBAL_STORE = "*";

const mintRoute = createRoute({
  method: "post",
  path: "/v1/tokens",
  summary: "Mint a read token for the edge",
  middleware: [strictJsonBody()] as const,
  request: { body: { required: true, content: { "application/json": { schema: TokenRequest } } } },
  responses: {
    200: {
      description: "The token (never stored).",
      content: { "application/json": { schema: TokenDocument } },
    },
    ...problems(413, 415),
  },
});

export function tokenRoutes() {
  return declaredRoutes().openapi(mintRoute, async (c) => {
    const { scope, ttl } = c.req.valid("json");
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
    return c.json({ token, scope, expiresAt: new Date(expiresAt).toISOString() }, 200);
  });
}
