/**
 * Adds the namespace of every successful write through the admin API (`/v1/configs/…`,
 * `/v1/namespaces/…`, and any later write route under a namespace) to the NamespaceRegistry, so
 * `GET /v1/status` knows which namespaces exist. After the write, never before: a refused write
 * must not list a namespace. Registration failing does not fail the write; it is logged.
 */
import type { MiddlewareHandler } from "hono";
import { isValidSegment, logLine } from "../../core";
import type { OriginApp } from "../app-env";
import { namespaceRegistry } from "../http/ops-stores";

const READS = new Set(["GET", "HEAD", "OPTIONS"]);

/** The namespace a `/v1/<collection>/<namespace>/…` path names, or null. */
export function namespaceOfPath(pathname: string): string | null {
  const segment = /^\/v1\/[a-z]+\/([^/]+)/.exec(pathname)?.[1];
  return segment !== undefined && isValidSegment(segment) ? segment : null;
}

export function registerNamespace(): MiddlewareHandler<OriginApp> {
  return async function registerNamespace(c, next) {
    await next();
    if (READS.has(c.req.method) || c.res.status >= 300) return;
    const namespace = namespaceOfPath(new URL(c.req.url).pathname);
    if (namespace === null) return;
    try {
      await namespaceRegistry(c.env).register(namespace, Date.now());
    } catch (error) {
      logLine({ part: "origin", level: "warn", event: "registry_failed", namespace, error: String(error) });
    }
  };
}
