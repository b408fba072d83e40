/**
 * Cost-breakdown variant: Hono plus core's `requestContext` (request id, Request-Id header, one
 * JSON log line per request) — the per-request plumbing every edge request pays.
 */
import { Hono } from "hono";
import { requestContext } from "../../core/http";
import { bareAnswer } from "./shared";

const app = new Hono();
app.use("*", requestContext("edge"));
app.get("/healthz", (c) => c.text("ok"));
app.get("/v1/configs/*", (c) => bareAnswer(c.req.raw));

export default { fetch: app.fetch } satisfies ExportedHandler;
