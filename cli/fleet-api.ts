/**
 * The operability calls of the admin API (`GET /v1/configs/{key}/fleet`, `GET /v1/status`), parsed
 * once here into the shapes the `fleet`, `status` and `publish --wait` commands use.
 */
import type { z } from "@hono/zod-openapi";
import { FleetDocument as FleetSchema } from "../origin/contract";
import { type AdminApi, documentOf, jsonOf } from "./admin-api";
import { CliError } from "./errors";

/** The fleet view as the origin declares it (origin/contract.ts FleetDocument). */
export type FleetDocument = z.infer<typeof FleetSchema>;

export async function readFleet(api: AdminApi, key: string, windowSeconds?: number): Promise<FleetDocument> {
  const query = windowSeconds === undefined ? "" : `?window=${windowSeconds}`;
  return documentOf(FleetSchema, await api.call("GET", `/v1/configs/${key}/-/fleet${query}`));
}

export async function readStatus(api: AdminApi, namespace?: string): Promise<Record<string, unknown>> {
  const query = namespace === undefined ? "" : `?namespace=${encodeURIComponent(namespace)}`;
  return jsonOf(await api.call("GET", `/v1/status${query}`));
}

/** A fleet answer already parsed as JSON (the `--json` input of tests and tools), checked by its schema. */
export function parseFleet(doc: unknown): FleetDocument {
  const result = FleetSchema.safeParse(doc);
  if (result.success) return result.data;
  const member = result.error.issues[0]?.path.join(".") || "document";
  throw new CliError(`the origin's fleet answer has no valid ${member}`, { code: "bad_response" });
}
