/**
 * `POST /v1/configs/{key}/-/versions/{n}/redact` (DESIGN §8): a version published by mistake
 * loses its bytes in the origin's SQLite, in KV (its snapshot is deleted) and in every edge cache
 * (purged); the edge answers `410 Gone` for `?version=n` from then on, and the origin's own reads
 * of it (`/-/versions/n`, diff, rollback) answer 410 too. Its row — ETag, digest, author — and the
 * audit entry (action `redact`, who and why) stay. The live version and a running rollout's
 * candidate are refused (409): publish the fix first. Needs `publish` on the key's namespace.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { annotate, parseVersion } from "../../core";
import { RedactResult } from "../contract";
import { CONFIGS, KeyParams, WriteHeaders } from "../http/config-params";
import { declaredRoutes, KEY, parsedBy, problems } from "../http/declared-routes";
import { unwrap } from "../http/store-call";
import { keyScope } from "../middleware/admin-auth";

const redactRoute = createRoute({
  method: "post",
  path: `${CONFIGS}/${KEY}/-/versions/{n}/redact`,
  summary: "Redact a version: remove its bytes from the origin, KV and every edge cache",
  middleware: [keyScope("publish")] as const,
  request: {
    params: KeyParams.extend({
      n: parsedBy(parseVersion).openapi({
        param: { name: "n", in: "path" },
        description: "The version to redact.",
        example: "3",
      }),
    }),
    headers: z.object({ "config-message": WriteHeaders.shape["config-message"] }),
  },
  responses: {
    200: {
      description: "Redacted (or already redacted: `redacted: false`).",
      content: { "application/json": { schema: RedactResult } },
    },
    ...problems(404, 409),
  },
});

export function redactionRoutes() {
  return declaredRoutes().openapi(redactRoute, async (c) => {
    const { key: configKey, n } = c.req.valid("param");
    const { key, namespace } = configKey;
    annotate(c, { key, version: n });
    const outcome = unwrap(
      await c
        .get("services")
        .store(namespace)
        .redact({
          namespace,
          key,
          version: n,
          actor: c.get("caller").sub,
          message: c.req.valid("header")["config-message"],
        }),
    );
    annotate(c, { redacted: outcome.redacted, distribution: outcome.distribution });
    c.header("Cache-Control", "no-store");
    return c.json(
      {
        key: outcome.key,
        version: outcome.version,
        redacted: outcome.redacted,
        redactedAt: new Date(outcome.redactedAt).toISOString(),
        distribution: outcome.distribution,
      },
      200,
    );
  });
}
