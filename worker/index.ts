import { Hono } from "hono";
import type { EdgeEnv } from "./env";

const app = new Hono<{ Bindings: EdgeEnv }>();
app.get("/healthz", (c) => c.json({ ok: true, part: "edge", version: c.env.BUILD_VERSION }));
app.get("/kv", async (c) => c.text((await c.env.CONFIGS.get("head/x/y")) ?? "none"));

export default { fetch: app.fetch } satisfies ExportedHandler<EdgeEnv>;
