/**
 * Parses a config read (`/v1/configs/{key}[?version=N]`, `Config-Client-Id`) into a typed
 * `ConfigTarget`, once, at the boundary; a malformed key, version or client id is a 400.
 */
import type { Context } from "hono";
import { FleetconfError, parseVersion, rawPath, requireKey } from "../../core";
import type { ConfigTarget, EdgeHonoEnv } from "../app-env";

export const CONFIGS_PREFIX = "/v1/configs/";
const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function parseConfigTarget(c: Context<EdgeHonoEnv>): ConfigTarget {
  const startedAt = performance.now();
  // The raw path, not a decoded one: keys never contain '%', so an encoded key is invalid.
  const url = c.req.url;
  const key = requireKey(rawPath(url).slice(CONFIGS_PREFIX.length));
  return {
    key,
    version: url.includes("?") ? parseVersionQuery(c.req.queries("version")) : null,
    clientId: parseClientId(c.req.header("Config-Client-Id")),
    startedAt,
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
