/**
 * Parses a config read (`/v1/configs/{key}[?version=N]`, `Config-Client-Id`) into a typed
 * `ConfigTarget`, once, and resolves the namespace's settings, which decide both who may read
 * (read-auth) and the Cache-Control the response carries.
 */
import type { MiddlewareHandler } from "hono";
import { FleetconfError, parseVersion, requireKey } from "../../core";
import type { EdgeHonoEnv } from "../app-env";

export const CONFIGS_PREFIX = "/v1/configs/";
const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function configTarget(): MiddlewareHandler<EdgeHonoEnv> {
  return async function configTarget(c, next) {
    const startedAt = performance.now();
    // The raw path, not a decoded one: keys never contain '%', so an encoded key is invalid.
    const path = new URL(c.req.url).pathname;
    const key = requireKey(path.slice(CONFIGS_PREFIX.length));
    const target = {
      key,
      version: parseVersionQuery(c.req.queries("version")),
      clientId: parseClientId(c.req.header("Config-Client-Id")),
      startedAt,
    };
    c.set("target", target);
    c.set("namespaceSettings", await c.get("services").store.settings(key.namespace, c.executionCtx));
    await next();
  };
}

function parseVersionQuery(values: string[] | undefined): number | null {
  if (values === undefined) return null;
  if (values.length !== 1) throw new FleetconfError("invalid_version", "Give at most one version.");
  return parseVersion(values[0]);
}

function parseClientId(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  if (!CLIENT_ID.test(raw)) {
    throw new FleetconfError(
      "invalid_request",
      "Config-Client-Id must be 1 to 128 characters of [A-Za-z0-9._:-].",
    );
  }
  return raw;
}
