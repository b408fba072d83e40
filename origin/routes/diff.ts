/**
 * `GET /v1/configs/{key}/diff?from=a&to=b`: what changed between two versions, as an RFC 6902
 * JSON Patch (`application/json-patch+json`, §6) that turns `from` into `to`. Each `remove` and
 * `replace` is preceded by a `test` of the value it changes (§4.6), so the patch applies only to
 * `from` and states what it replaces (core/json-patch.ts). `a` and `b` are version numbers,
 * `current` (the live version) or `candidate` (a running rollout's). The documents are compared
 * as parsed JSON values: a change of formatting alone is an empty patch.
 */
import type { Context } from "hono";
import { annotate, type ConfigKey, FleetconfError, parseVersion } from "../../core";
import type { JsonValue } from "../../core/json-diff";
import { diffPatch, JSON_PATCH_MEDIA_TYPE } from "../../core/json-patch";
import type { OriginApp } from "../app-env";
import { unwrap } from "../http/store-call";
import { requireScope } from "../middleware/admin-auth";
import type { VersionRef } from "../store/diff-sides";

const utf8 = new TextDecoder();

export function parseVersionRef(raw: string | undefined, name: string): VersionRef {
  if (raw === undefined) {
    throw new FleetconfError(
      "invalid_request",
      `${name} is required: a version number, current or candidate.`,
    );
  }
  if (raw === "current" || raw === "candidate") return raw;
  try {
    return parseVersion(raw);
  } catch {
    throw new FleetconfError("invalid_version", `${name} must be a version number, current or candidate.`);
  }
}

export async function readDiff(c: Context<OriginApp>, key: ConfigKey): Promise<Response> {
  requireScope(c, { action: "read", namespace: key.namespace });
  const from = parseVersionRef(c.req.query("from"), "from");
  const to = parseVersionRef(c.req.query("to"), "to");
  const sides = unwrap(await c.get("services").store(key.namespace).diffSides(key.key, from, to));
  const before = JSON.parse(utf8.decode(sides.from.body)) as JsonValue;
  const after = JSON.parse(utf8.decode(sides.to.body)) as JsonValue;
  const patch = diffPatch(before, after);
  annotate(c, { from: sides.from.record.version, to: sides.to.record.version, operations: patch.length });
  return new Response(JSON.stringify(patch), {
    status: 200,
    headers: {
      "Content-Type": JSON_PATCH_MEDIA_TYPE,
      "Cache-Control": "no-store",
      // Which versions `current`/`candidate` resolved to.
      "Config-Diff-From": String(sides.from.record.version),
      "Config-Diff-To": String(sides.to.record.version),
    },
  });
}
