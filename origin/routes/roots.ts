/**
 * `PUT /v1/roots/{version}` (DESIGN §8, trust root): stores the next signed root document that
 * `fleetconf keys rotate --root` produced, after checking it extends the stored chain (threshold
 * signatures by the previous root's keys and its own, store/roots.ts); the edge then serves it at
 * `/.well-known/fleetconf-root.json[?version=N]`. Needs `admin`. The admin token alone cannot
 * make clients trust a key: only the root keys' signatures can.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { annotate, parseVersion } from "../../core";
import { RootDocumentBody, RootStored } from "../contract";
import { strictJsonBody } from "../http/body";
import { declaredRoutes, parsedBy, problems } from "../http/declared-routes";
import { unwrap } from "../http/store-call";
import { routeScope } from "../middleware/admin-auth";
import { GLOBAL_STORE } from "./tokens";

/** A root is a few keys and signatures (core/trust-root.ts MAX_ROOT_BYTES). */
const ROOT_BODY_LIMIT = 64 * 1024;

const putRootRoute = createRoute({
  method: "put",
  path: "/v1/roots/{version}",
  summary: "Store the next signed trust root (the edge serves it to clients)",
  middleware: [routeScope({ action: "admin" }), strictJsonBody(ROOT_BODY_LIMIT)] as const,
  request: {
    params: z.object({
      version: parsedBy(parseVersion).openapi({
        param: { name: "version", in: "path" },
        description: "The root's version: the newest stored one plus 1 (1 for the first).",
        example: "2",
      }),
    }),
    body: { required: true, content: { "application/json": { schema: RootDocumentBody } } },
  },
  responses: {
    200: {
      description: "Stored (or already stored).",
      content: { "application/json": { schema: RootStored } },
    },
    ...problems(409, 413, 415),
  },
});

export function rootRoutes() {
  return declaredRoutes().openapi(putRootRoute, async (c) => {
    const { version } = c.req.valid("param");
    annotate(c, { rootVersion: version });
    const { config, store } = c.get("services");
    const outcome = unwrap(
      await store(GLOBAL_STORE).putRoot({
        version,
        document: c.req.valid("json"),
        actor: c.get("caller").sub,
        signingKid: config.signing.kid,
      }),
    );
    annotate(c, { created: outcome.created, distribution: outcome.distribution });
    c.header("Cache-Control", "no-store");
    return c.json(outcome, 200);
  });
}
