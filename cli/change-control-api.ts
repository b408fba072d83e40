/**
 * The origin's change-control calls as typed functions for the CLI: staged rollouts
 * (`Config-Rollout`, `/v1/configs/{key}/-/rollout…`), schemas (`/v1/schemas/{key}`), the audit
 * log (`/v1/audit`) and diffs (`/v1/configs/{key}/-/diff`). Answers are parsed once, here, by the
 * origin's own response schemas (origin/contract.ts).
 */
import type { z } from "@hono/zod-openapi";
import type { JsonChange } from "../core/json-diff";
import { changesOf, parsePatch } from "../core/json-patch";
import {
  type AuditEntryDocument,
  AuditPage as AuditPageSchema,
  PublishResult as PublishResultSchema,
  type RolloutPatch,
  RolloutStatus as RolloutStatusSchema,
  SchemaSummary as SchemaSummarySchema,
} from "../origin/contract";
import {
  type AdminApi,
  type Answer,
  documentOf,
  type Held,
  headerText,
  heldOf,
  type PublishResult,
  type WriteOptions,
  writeHeaders,
} from "./admin-api";
import { CliError } from "./errors";

export type RolloutStatus = z.infer<typeof RolloutStatusSchema>;
export type AuditEntry = AuditEntryDocument;
export type AuditPage = z.infer<typeof AuditPageSchema>;
export type SchemaSummary = z.infer<typeof SchemaSummarySchema> & { created?: boolean };

const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const JSON_BODY = { "Content-Type": "application/json" };

function badShape(member: string): CliError {
  return new CliError(`the origin's answer has no valid ${member}`, { code: "bad_response" });
}

/**
 * `PUT /v1/configs/{key}` with the write's preconditions, note and optional `Config-Rollout`: the
 * version written (and the rollout it started), or — in a namespace whose writes need approval —
 * the change request the origin holds instead (202).
 */
export async function putConfig(
  api: AdminApi,
  key: string,
  body: Uint8Array,
  options: WriteOptions,
): Promise<{ write: PublishResult; rollout: RolloutStatus | null } | Held> {
  const answer = await api.call("PUT", `/v1/configs/${key}`, { body, headers: writeHeaders(options) });
  const held = heldOf(answer);
  if (held) return held;
  const { rollout: started, ...write } = documentOf(PublishResultSchema, answer);
  return { write: { ...write, created: answer.status === 201 }, rollout: started ?? null };
}

export function startRollout(
  api: AdminApi,
  key: string,
  body: Uint8Array,
  rollout: string,
  options: { ifMatch?: string; message?: string },
): Promise<{ write: PublishResult; rollout: RolloutStatus | null } | Held> {
  return putConfig(api, key, body, { ...options, rollout });
}

export async function rolloutStatus(api: AdminApi, key: string): Promise<RolloutStatus> {
  return documentOf(RolloutStatusSchema, await api.call("GET", `/v1/configs/${key}/-/rollout`));
}

/** PATCH …/-/rollout: a higher fixed share and/or a wider ring (`{"ring": null}`: everywhere). */
export async function updateRollout(
  api: AdminApi,
  key: string,
  patch: z.input<typeof RolloutPatch>,
  message?: string,
): Promise<RolloutStatus> {
  const headers: Record<string, string> = { ...JSON_BODY };
  if (message) headers["Config-Message"] = headerText(message);
  const answer = await api.call("PATCH", `/v1/configs/${key}/-/rollout`, {
    body: bytes(patch),
    headers,
  });
  return documentOf(RolloutStatusSchema, answer);
}

export async function finishRollout(
  api: AdminApi,
  key: string,
  how: "complete" | "abort",
  message?: string,
): Promise<RolloutStatus> {
  const headers: Record<string, string> = message ? { "Config-Message": headerText(message) } : {};
  return documentOf(
    RolloutStatusSchema,
    await api.call("POST", `/v1/configs/${key}/-/rollout/${how}`, { headers }),
  );
}

export async function putSchema(
  api: AdminApi,
  key: string,
  body: Uint8Array,
  message?: string,
): Promise<SchemaSummary> {
  const headers: Record<string, string> = { "Content-Type": "application/schema+json" };
  if (message) headers["Config-Message"] = headerText(message);
  const answer = await api.call("PUT", `/v1/schemas/${key}`, { body, headers });
  return { ...documentOf(SchemaSummarySchema, answer), created: answer.status === 201 };
}

export async function getSchema(api: AdminApi, key: string): Promise<Uint8Array> {
  return (await api.call("GET", `/v1/schemas/${key}`)).bytes;
}

export async function deleteSchema(api: AdminApi, key: string, message?: string): Promise<SchemaSummary> {
  const headers: Record<string, string> = message ? { "Config-Message": headerText(message) } : {};
  return documentOf(SchemaSummarySchema, await api.call("DELETE", `/v1/schemas/${key}`, { headers }));
}

export async function auditPage(
  api: AdminApi,
  query: { namespace?: string; key?: string; since?: string; limit?: number; cursor?: string },
): Promise<AuditPage> {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
  const page = documentOf(
    AuditPageSchema,
    await api.call("GET", `/v1/audit${params.size > 0 ? `?${params}` : ""}`),
  );
  return { ...page, next: page.next !== null && page.next.length > 0 ? page.next : null };
}

/**
 * The origin's diff of two versions (`current`, `candidate` or a number), with the versions they
 * resolved to; null when this origin has no diff route (older origins answer 400/404 for it).
 */
export async function originDiff(
  api: AdminApi,
  key: string,
  from: string,
  to: string,
): Promise<{ from: number; to: number; changes: JsonChange[] } | null> {
  let answer: Answer;
  try {
    const query = new URLSearchParams({ from, to });
    answer = await api.call("GET", `/v1/configs/${key}/-/diff?${query}`);
  } catch (error) {
    if (error instanceof CliError && (error.status === 400 || error.status === 404)) return null;
    throw error;
  }
  if (!(answer.headers.get("Content-Type") ?? "").startsWith("application/json-patch+json")) return null;
  const fromVersion = Number(answer.headers.get("Config-Diff-From"));
  const toVersion = Number(answer.headers.get("Config-Diff-To"));
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(answer.bytes));
  } catch {
    throw badShape("patch");
  }
  const patch = parsePatch(parsed);
  const changes = patch === null ? null : changesOf(patch);
  if (changes === null || !Number.isSafeInteger(fromVersion) || !Number.isSafeInteger(toVersion)) {
    throw badShape("patch");
  }
  return { from: fromVersion, to: toVersion, changes };
}
