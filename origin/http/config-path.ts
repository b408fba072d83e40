/**
 * Reading `/v1/configs/{key}[/versions[/{n}]|/rollback]`. A key may itself end in a segment named
 * `versions` (or `versions/12`), so the path is ambiguous; the rule is syntactic and fixed:
 * GET treats `…/versions` and `…/versions/<digits>` as the history of the key before them when
 * that prefix is a valid key, and POST `…/rollback` likewise. PUT and DELETE have no
 * sub-resources, so their whole path is the key. (docs/api.md, "Paths".)
 */
import { type ConfigKey, FleetconfError, parseKey, parseVersion, requireKey } from "../../core";

export const CONFIGS_PREFIX = "/v1/configs/";

export type ConfigTarget =
  | { resource: "config"; key: ConfigKey }
  | { resource: "versions"; key: ConfigKey }
  | { resource: "version"; key: ConfigKey; version: number }
  | { resource: "rollback"; key: ConfigKey };

/** The raw (still percent-encoded) path after the prefix: `%` is not a key character, so no decoding. */
export function rawConfigPath(url: string): string {
  const pathname = new URL(url).pathname;
  return pathname.startsWith(CONFIGS_PREFIX) ? pathname.slice(CONFIGS_PREFIX.length) : "";
}

export function parseConfigTarget(method: string, rest: string): ConfigTarget {
  if (method === "GET" || method === "HEAD") {
    const one = /^(.+)\/versions\/([0-9]+)$/.exec(rest);
    if (one?.[1] && one[2] && parseKey(one[1]).ok) {
      return { resource: "version", key: requireKey(one[1]), version: parseVersion(one[2]) };
    }
    const list = /^(.+)\/versions$/.exec(rest);
    if (list?.[1] && parseKey(list[1]).ok) return { resource: "versions", key: requireKey(list[1]) };
    return { resource: "config", key: requireKey(rest) };
  }
  if (method === "POST") {
    const rollback = /^(.+)\/rollback$/.exec(rest);
    if (rollback?.[1]) return { resource: "rollback", key: requireKey(rollback[1]) };
    throw new FleetconfError("method_not_allowed", "POST is only defined for /v1/configs/{key}/rollback.", {
      headers: { Allow: "GET, HEAD, PUT, DELETE" },
    });
  }
  return { resource: "config", key: requireKey(rest) };
}
