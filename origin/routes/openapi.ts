/**
 * `GET /openapi.json`: the admin API's OpenAPI 3.1 document, generated from the declared routes
 * (DESIGN §8: never written by hand), and `GET /docs`, an API reference page rendered from it by
 * Scalar. Both are served without a token: they describe the API, they hold no data.
 *
 * The page's renderer is a script Scalar loads from jsDelivr by default; the page needs network
 * for that one script (docs/api.md, "API description"). The document itself is offline.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { Scalar } from "@scalar/hono-api-reference";
import { Hono } from "hono";
import type { OriginApp } from "../app-env";

type Document = ReturnType<OpenAPIHono<OriginApp>["getOpenAPI31Document"]>;

/** `{key{<regex>}}` → `{key}`: the regex is the router's business (http/declared-routes.ts KEY). */
export function openapiPath(path: string): string {
  return path.replaceAll(/\{([A-Za-z0-9_]+)\{[^}]*\}\}/g, "{$1}");
}

export const ADMIN_SECURITY_SCHEME = "adminToken";

/** The OpenAPI 3.1 document of `routes`, with the admin bearer scheme required on every operation. */
export function openapiDocument(routes: OpenAPIHono<OriginApp>, version: string): Document {
  routes.openAPIRegistry.registerComponent("securitySchemes", ADMIN_SECURITY_SCHEME, {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description:
      "An admin JWT (DESIGN §5): `aud` fleetconf-admin, an `exp`, `scope` of `admin`, `publish:{ns}` or `read:{ns}`.",
  });
  const document = routes.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "fleetconf origin admin API",
      version,
      description: "Publish, read, roll back and roll out configs; namespaces, read tokens, schemas, audit.",
      license: { name: "Apache-2.0", url: "https://www.apache.org/licenses/LICENSE-2.0" },
    },
    servers: [{ url: "http://127.0.0.1:8788", description: "local (npm run dev)" }],
    security: [{ [ADMIN_SECURITY_SCHEME]: [] }],
  });
  const paths = Object.fromEntries(
    Object.entries(document.paths ?? {}).map(([path, item]) => [openapiPath(path), item]),
  );
  return { ...document, paths };
}

export function openapiRoutes(admin: OpenAPIHono<OriginApp>): Hono<OriginApp> {
  const routes = new Hono<OriginApp>();
  /** Built once per isolate, on first request: the routes do not change while it runs. */
  let document: Document | null = null;
  routes.get("/openapi.json", (c) => {
    document ??= openapiDocument(admin, c.get("services").config.buildVersion);
    c.header("Cache-Control", "no-cache");
    return c.json(document);
  });
  routes.get("/docs", Scalar({ url: "/openapi.json", pageTitle: "fleetconf admin API" }));
  return routes;
}
