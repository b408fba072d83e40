import { Hono } from "hono";
import type { OriginEnv } from "./env";

export { NamespaceStore } from "./store/namespace-store";

const app = new Hono<{ Bindings: OriginEnv }>();
app.get("/healthz", (c) => c.json({ ok: true, part: "origin", version: c.env.BUILD_VERSION }));
app.get("/ping", async (c) => {
  const stub = c.env.NAMESPACES.get(c.env.NAMESPACES.idFromName("x"));
  await c.env.CONFIGS.put("head/x/y", "hello");
  const edge = await c.env.EDGE?.fetch("http://edge/kv");
  return c.json({ dobj: await stub.ping(), edge: await edge?.text() });
});

export default { fetch: app.fetch } satisfies ExportedHandler<OriginEnv>;
