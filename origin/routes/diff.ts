/**
 * `GET /v1/configs/{key}/-/diff?from=a&to=b`: what changed between two versions, as an RFC 6902
 * JSON Patch (`application/json-patch+json`, §6) that turns `from` into `to`. Each `remove` and
 * `replace` is preceded by a `test` of the value it changes (§4.6), so the patch applies only to
 * `from` and states what it replaces (core/json-patch.ts). `a` and `b` are version numbers,
 * `current` (the live version) or `candidate` (a running rollout's). The documents are compared
 * as parsed JSON values: a change of formatting alone is an empty patch.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { annotate, FleetconfError, parseVersion } from "../../core";
import type { JsonValue } from "../../core/json-diff";
import { diffPatch, JSON_PATCH_MEDIA_TYPE } from "../../core/json-patch";
import { JsonPatch } from "../contract";
import { CONFIGS, KeyParams } from "../http/config-params";
import { declaredRoutes, KEY, optionalParsedBy, problems, storedJson } from "../http/declared-routes";
import { unwrap } from "../http/store-call";
import { keyScope } from "../middleware/admin-auth";
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

const versionRef = (name: string) =>
  optionalParsedBy((raw) => parseVersionRef(raw, name)).openapi({
    description: "A version number, `current` (the live version) or `candidate` (a running rollout's).",
    example: "current",
  });

const diffRoute = createRoute({
  method: "get",
  path: `${CONFIGS}/${KEY}/-/diff`,
  summary: "What changed between two versions, as an RFC 6902 JSON Patch",
  middleware: [keyScope("read")] as const,
  request: { params: KeyParams, query: z.object({ from: versionRef("from"), to: versionRef("to") }) },
  responses: {
    200: {
      description: "A patch turning `from` into `to`; Config-Diff-From/-To say which versions were compared.",
      content: { [JSON_PATCH_MEDIA_TYPE]: { schema: JsonPatch } },
    },
    ...problems(404),
  },
});

export function diffRoutes() {
  return declaredRoutes().openapi(diffRoute, async (c) => {
    const { key, namespace } = c.req.valid("param").key;
    annotate(c, { key });
    const { from, to } = c.req.valid("query");
    const sides = unwrap(await c.get("services").store(namespace).diffSides(key, from, to));
    const before = JSON.parse(utf8.decode(sides.from.body)) as JsonValue;
    const after = JSON.parse(utf8.decode(sides.to.body)) as JsonValue;
    const patch = diffPatch(before, after);
    annotate(c, { from: sides.from.record.version, to: sides.to.record.version, operations: patch.length });
    const response = new Response(JSON.stringify(patch), {
      status: 200,
      headers: {
        "Content-Type": JSON_PATCH_MEDIA_TYPE,
        "Cache-Control": "no-store",
        // Which versions `current`/`candidate` resolved to.
        "Config-Diff-From": String(sides.from.record.version),
        "Config-Diff-To": String(sides.to.record.version),
      },
    });
    return storedJson(JsonPatch, response);
  });
}
