/**
 * Builds the request's services from the isolate's configuration, parsed and validated once
 * (config.ts). A configuration error fails the request with a logged 500 naming the variable,
 * never with a half-configured publish.
 */
import type { MiddlewareHandler } from "hono";
import type { OriginApp } from "../app-env";
import { originConfig } from "../config";

export function init(): MiddlewareHandler<OriginApp> {
  return async function init(c, next) {
    const config = await originConfig(c.env);
    const namespaces = c.env.NAMESPACES;
    c.set("services", {
      config,
      store: (namespace) => namespaces.get(namespaces.idFromName(namespace)),
    });
    await next();
  };
}
