/**
 * The admin API's OpenAPI document (DESIGN §8), generated from the declared routes: it is a valid
 * OpenAPI 3.1 document by a standard validator (@seriousme/openapi-schema-validator, the OAI's
 * published JSON Schemas), and every route the router serves is in it — checked against the
 * router's own route table, so a route added without a declaration fails here.
 */
import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { adminRoutes } from "../../../origin/app";
import { ADMIN_SECURITY_SCHEME, openapiDocument, openapiPath } from "../../../origin/routes/openapi";

const METHODS = ["get", "put", "post", "delete", "patch"] as const;
type Method = (typeof METHODS)[number];

function isMethod(value: string): value is Method {
  return (METHODS as readonly string[]).includes(value);
}

const routes = adminRoutes();
const document = openapiDocument(routes, "test");
const paths = document.paths ?? {};

/** The router's routes that answer requests: declared ones, not the 405 fallbacks (`/*`). */
const served = routes.routes
  .map((route) => ({ method: route.method.toLowerCase(), path: route.path }))
  .filter(
    (route): route is { method: Method; path: string } =>
      isMethod(route.method) && !route.path.endsWith("/*"),
  );

describe("GET /openapi.json", () => {
  it("validates as OpenAPI 3.1 with a standard validator", async () => {
    const validator = new Validator();
    // As served: the JSON text, parsed back.
    const served: Record<string, unknown> = JSON.parse(JSON.stringify(document));
    const result = await validator.validate(served);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("has every route the router serves, by method and path", () => {
    expect(served.length).toBeGreaterThanOrEqual(20);
    for (const route of served) {
      const path = openapiPath(route.path.replaceAll(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, "{$1$2}"));
      expect(paths[path]?.[route.method], `${route.method.toUpperCase()} ${path}`).toBeDefined();
    }
  });

  it("names the key a plain {key} parameter, never the router's regex", () => {
    expect(Object.keys(paths).filter((path) => path.includes("{key{"))).toEqual([]);
    expect(paths["/v1/configs/{key}/-/versions/{n}"]?.get?.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: "key", in: "path", required: true })]),
    );
  });

  it("describes every operation's errors as problem+json and requires the bearer token", () => {
    expect(document.components?.securitySchemes?.[ADMIN_SECURITY_SCHEME]).toMatchObject({
      type: "http",
      scheme: "bearer",
    });
    expect(document.security).toEqual([{ [ADMIN_SECURITY_SCHEME]: [] }]);
    for (const [path, item] of Object.entries(paths)) {
      for (const method of METHODS) {
        const operation = item[method];
        if (!operation) continue;
        for (const status of ["400", "401", "403"]) {
          const content = operation.responses?.[status]?.content ?? {};
          expect(Object.keys(content), `${method} ${path} ${status}`).toEqual(["application/problem+json"]);
        }
      }
    }
    expect(document.components?.schemas?.Problem).toBeDefined();
  });

  it("marks the old POST/PATCH spellings deprecated and lists no old GET spelling", () => {
    expect(paths["/v1/configs/{key}/rollback"]?.post?.deprecated).toBe(true);
    expect(paths["/v1/configs/{key}/rollout"]?.patch?.deprecated).toBe(true);
    expect(paths["/v1/configs/{key}/rollout"]?.get).toBeUndefined();
    expect(paths["/v1/configs/{key}/-/rollback"]?.post?.deprecated).toBeUndefined();
  });

  it("declares the config body as free-form JSON, not a zod schema that would re-serialise it", () => {
    const body = paths["/v1/configs/{key}"]?.put?.requestBody;
    expect(body).toMatchObject({ required: true, content: { "application/json": { schema: {} } } });
  });
});
