/**
 * Reading `/v1/configs/{key}[/versions[/{n}]|/rollback|/rollout[/complete|/abort]|/diff]`. A key
 * may itself end in a segment named `versions` (or `rollout`, `diff`), so the path is ambiguous;
 * the rule is syntactic and fixed: GET treats `…/versions`, `…/versions/<digits>`, `…/rollout`
 * and `…/diff` as sub-resources of the key before them when that prefix is a valid key; POST
 * `…/rollback`, `…/rollout/complete`, `…/rollout/abort` and PATCH `…/rollout` always are. PUT
 * and DELETE have no sub-resources, so their whole path is the key. (docs/api.md, "Paths".)
 */
import { type ConfigKey, FleetconfError, parseKey, parseVersion, requireKey } from "../../core";

export const CONFIGS_PREFIX = "/v1/configs/";

export type ConfigTarget =
  | { resource: "config"; key: ConfigKey }
  | { resource: "versions"; key: ConfigKey }
  | { resource: "version"; key: ConfigKey; version: number }
  | { resource: "rollback"; key: ConfigKey }
  | { resource: "rollout"; key: ConfigKey }
  | { resource: "rollout-complete"; key: ConfigKey }
  | { resource: "rollout-abort"; key: ConfigKey }
  | { resource: "rollout-alarm"; key: ConfigKey }
  | { resource: "diff"; key: ConfigKey };

const GET_SUBRESOURCES = [
  [/^(.+)\/rollout$/, "rollout"],
  [/^(.+)\/diff$/, "diff"],
] as const;
const POST_SUBRESOURCES = [
  [/^(.+)\/rollback$/, "rollback"],
  [/^(.+)\/rollout\/complete$/, "rollout-complete"],
  [/^(.+)\/rollout\/abort$/, "rollout-abort"],
  // Only behind /-/ (DESIGN §4): a new route has no old spelling to keep.
  [/^(.+)\/-\/rollout\/alarm$/, "rollout-alarm"],
] as const;

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
    for (const [pattern, resource] of GET_SUBRESOURCES) {
      const match = pattern.exec(rest);
      if (match?.[1] && parseKey(match[1]).ok) return { resource, key: requireKey(match[1]) };
    }
    return { resource: "config", key: requireKey(rest) };
  }
  if (method === "POST") {
    for (const [pattern, resource] of POST_SUBRESOURCES) {
      const match = pattern.exec(rest);
      if (match?.[1]) return { resource, key: requireKey(match[1]) };
    }
    throw new FleetconfError(
      "method_not_allowed",
      "POST is only defined for /v1/configs/{key}/rollback and /v1/configs/{key}/rollout/{complete|abort}.",
      { headers: { Allow: "GET, HEAD, PUT, DELETE" } },
    );
  }
  if (method === "PATCH") {
    const rollout = /^(.+)\/rollout$/.exec(rest);
    if (rollout?.[1]) return { resource: "rollout", key: requireKey(rollout[1]) };
    throw new FleetconfError("method_not_allowed", "PATCH is only defined for /v1/configs/{key}/rollout.", {
      headers: { Allow: "GET, HEAD, PUT, DELETE" },
    });
  }
  return { resource: "config", key: requireKey(rest) };
}
