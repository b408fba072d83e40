/**
 * Admin authentication (DESIGN §5): a Bearer JWT with `aud` fleetconf-admin and an `exp`,
 * HS256 with ADMIN_JWT_SECRET or checked against ADMIN_JWKS_URL's keys, algorithms allow-listed
 * (never `none`). Missing or invalid → 401 with `WWW-Authenticate` (RFC 6750 §3); a valid token
 * whose scope does not cover the resource → 403 (RFC 6750 §3.1 insufficient_scope).
 */
import type { Context, MiddlewareHandler } from "hono";
import {
  annotate,
  bearerToken,
  FleetconfError,
  isValidSegment,
  type Permission,
  scopeCovers,
  verifyAdminToken,
} from "../../core";
import type { OriginApp } from "../app-env";
import { KeyParams } from "../http/config-params";
import { refuseInvalid } from "../http/declared-routes";

export function adminAuth(): MiddlewareHandler<OriginApp> {
  return async function adminAuth(c, next) {
    const token = bearerToken(c.req.header("Authorization"));
    const caller = await verifyAdminToken(token, c.get("services").config.adminKeys);
    c.set("caller", caller);
    annotate(c, { actor: caller.sub });
    await next();
  };
}

function describe(permission: Permission): string {
  return permission.action === "admin" ? "admin" : `${permission.action}:${permission.namespace}`;
}

/** Throws 403 unless the caller's scopes cover `permission` (core scopeCovers). */
export function requireScope(c: Context<OriginApp>, permission: Permission): void {
  if (scopeCovers(c.get("caller").scopes, permission)) return;
  throw new FleetconfError("forbidden", `This needs the ${describe(permission)} scope (or admin).`, {
    headers: {
      "WWW-Authenticate": `Bearer realm="fleetconf", error="insufficient_scope", scope="${describe(permission)}"`,
    },
  });
}

/**
 * The scope check of a `{key}` route, declared with the route (`middleware` of its createRoute):
 * it runs before the route's validators and before any body is read, so a request the caller may
 * not make is refused with 403 without its body or headers being looked at (docs/api.md, "Order
 * of checks"). The key is parsed here by the route's own key schema (400 invalid_key, with the
 * same `errors` member) because the check needs its namespace.
 */
export function keyScope(action: "read" | "publish" | "alarm"): MiddlewareHandler<OriginApp> {
  return async function keyScope(c, next) {
    const parsed = KeyParams.safeParse({ key: c.req.param("key") });
    if (!parsed.success) refuseInvalid({ success: false, error: parsed.error, target: "param" });
    else requireScope(c, { action, namespace: parsed.data.key.namespace });
    await next();
  };
}

/** As keyScope, for a route whose permission needs no key (`admin` for namespace settings). */
export function routeScope(permission: Permission): MiddlewareHandler<OriginApp> {
  return async function routeScope(c, next) {
    requireScope(c, permission);
    await next();
  };
}

/** As keyScope, for a `{namespace}` route (change requests): the namespace parameter's permission. */
export function namespaceScope(action: "read" | "publish"): MiddlewareHandler<OriginApp> {
  return async function namespaceScope(c, next) {
    const namespace = c.req.param("namespace") ?? "";
    if (isValidSegment(namespace)) requireScope(c, { action, namespace });
    await next();
  };
}
