/** Cost-breakdown variant: the bare answer behind a Hono router (one route, no middleware). */
import { Hono } from "hono";
import { bareAnswer } from "./shared";

const app = new Hono();
app.get("/healthz", (c) => c.text("ok"));
app.get("/v1/configs/*", (c) => bareAnswer(c.req.raw));

export default { fetch: app.fetch } satisfies ExportedHandler;
