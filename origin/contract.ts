/**
 * The admin API's request and response documents, defined once as zod schemas: the routes
 * validate with them and declare them as their responses, the OpenAPI document is generated from
 * them, and the CLI and tests take their types from them (`z.infer`). Changing a shape here
 * changes all of those together.
 */
import { z } from "@hono/zod-openapi";
import {
  isReadScope,
  MAX_APPROVAL_TTL,
  MAX_BUNDLE_KEYS,
  MAX_FRESHNESS_TTL,
  MAX_READ_TOKEN_TTL,
  MIN_APPROVAL_TTL,
  MIN_FRESHNESS_TTL,
  parseRingCodes,
} from "../core";

const dateTime = z.string().openapi({ format: "date-time" });
const distribution = z.enum(["complete", "pending"]).openapi({
  description: "Whether KV and the edge caches already have the change, or the outbox still holds it.",
});

/** RFC 9457 problem details, as every error of the API is rendered (core/errors.ts). */
export const Problem = z
  .object({
    type: z.string().openapi({ format: "uri" }),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    code: z.string().openapi({ description: "A stable error code (core/errors.ts ERROR_CODES)." }),
    instance: z.string().optional().openapi({ description: "The request id." }),
    errors: z
      .array(
        z.object({
          pointer: z
            .string()
            .optional()
            .openapi({ description: "A body member, as a JSON Pointer (RFC 6901)." }),
          parameter: z.string().optional(),
          header: z.string().optional(),
          detail: z.string().optional(),
          message: z.string().optional(),
        }),
      )
      .optional()
      .openapi({ description: "One entry per refused field." }),
  })
  .openapi("Problem");

export const WriteResult = z
  .object({
    key: z.string(),
    version: z.int(),
    etag: z.string(),
    digest: z.string(),
    publishedAt: dateTime,
    distribution,
  })
  .openapi("WriteResult");

export const DeleteResult = z
  .object({ key: z.string(), deleted: z.literal(true), version: z.int(), deletedAt: dateTime, distribution })
  .openapi("DeleteResult");

export const VersionSummary = z
  .object({
    version: z.int(),
    etag: z.string(),
    digest: z.string(),
    publishedAt: dateTime,
    author: z.string(),
    message: z.string().nullable(),
    size: z.int(),
    redactedAt: dateTime
      .optional()
      .openapi({ description: "Set once the version's bytes were redacted: they are gone everywhere." }),
  })
  .openapi("VersionSummary");

export const HistoryPage = z
  .object({ versions: z.array(VersionSummary), next: z.string().nullable() })
  .openapi("HistoryPage");

export const VersionDocument = VersionSummary.extend({
  key: z.string(),
  signature: z.string(),
  current: z.boolean(),
  content: z.unknown().openapi({ description: "The version's exact bytes, spliced in unchanged." }),
}).openapi("VersionDocument");

export const RedactResult = z
  .object({
    key: z.string(),
    version: z.int(),
    redacted: z.boolean().openapi({ description: "false: it had been redacted already (a retry)." }),
    redactedAt: dateTime,
    distribution: z.enum(["complete", "pending"]),
  })
  .openapi("RedactResult");

export const RootDocumentBody = z
  .looseObject({ signed: z.looseObject({}), signatures: z.array(z.unknown()) })
  .openapi("RootDocument", {
    description:
      "A signed trust root (core/trust-root.ts): `signed` {type, version, expires, threshold, keys, revoked} and `signatures` [{kid, sig}].",
  });

export const RootStored = z
  .object({
    version: z.int(),
    expires: dateTime,
    created: z.boolean().openapi({ description: "false: this exact root was stored already." }),
    distribution: z.enum(["complete", "pending"]),
  })
  .openapi("RootStored");

export const RollbackRequest = z.strictObject({
  to: z.int({ error: 'The body must be {"to": <version>} with a positive integer.' }).min(1, {
    error: 'The body must be {"to": <version>} with a positive integer.',
  }),
});

/** A ring's list of colo or continent codes in a PATCH (core/rings.ts parseRingCodes). */
const ringCodes = (kind: "colos" | "continents") => {
  const error =
    kind === "colos"
      ? 'colos must be a non-empty list of IATA colo codes, e.g. ["AMS", "FRA"].'
      : 'continents must be a non-empty list of AF AN AS EU NA OC SA, e.g. ["EU"].';
  return z
    .array(z.string({ error }), { error })
    .min(1, { error })
    .superRefine((codes, ctx) => {
      const parsed = parseRingCodes(kind, codes);
      if (!parsed.ok) ctx.addIssue({ code: "custom", message: `${parsed.reason}.` });
    });
};

export const RolloutPatch = z
  .strictObject({
    percent: z
      .number({ error: "percent must be a number from 0 to 100 with at most two decimals." })
      .min(0, { error: "percent must be a number from 0 to 100 with at most two decimals." })
      .max(100, { error: "percent must be a number from 0 to 100 with at most two decimals." })
      .refine((value) => Math.abs(value * 100 - Math.round(value * 100)) <= 1e-9, {
        error: "percent must be a number from 0 to 100 with at most two decimals.",
      })
      .optional(),
    colos: ringCodes("colos")
      .optional()
      .openapi({ description: "The ring's colos after the change: every current one plus any new." }),
    continents: ringCodes("continents")
      .optional()
      .openapi({ description: "The ring's continents after the change: every current one plus any new." }),
    ring: z
      .null({
        error: 'ring takes only null (the rollout everywhere); widen a ring with "colos" and "continents".',
      })
      .optional()
      .openapi({ description: "null: drop the ring, the share applies everywhere." }),
  })
  .refine((patch) => Object.keys(patch).length > 0, {
    error: 'The body must give at least one of "percent", "colos", "continents" or "ring": null.',
  })
  .refine((patch) => patch.ring !== null || (patch.colos === undefined && patch.continents === undefined), {
    error: '"ring": null (everywhere) cannot be combined with "colos" or "continents".',
  })
  .openapi("RolloutPatch", {
    description:
      "Every change may only grow the cohort: percent never below the share now, the ring never narrower.",
  });

const RingDocument = z
  .object({ colos: z.array(z.string()), continents: z.array(z.string()) })
  .openapi("Ring", {
    description: "Where the rollout's share applies: requests whose cf.colo or cf.continent is listed.",
  });

const versionRef = z.object({ version: z.int(), etag: z.string(), publishedAt: dateTime.nullable() });
const AutoAbortDocument = z
  .object({
    trigger: z.enum(["health-gate", "alarm"]),
    at: dateTime.nullable(),
    reporting: z.int(),
    rejected: z.int(),
    rejectedPercent: z.number(),
    maxRejected: z.number().nullable(),
    minClients: z.int().nullable(),
    reasons: z.array(z.object({ reason: z.string(), clients: z.int() })),
    alarm: z.object({ name: z.string(), detail: z.string().nullable() }).optional(),
  })
  .openapi("AutoAbort");

export const RolloutStatus = z
  .object({
    key: z.string(),
    state: z.enum(["none", "running", "completed", "aborted"]),
    live: versionRef,
    stable: z.object({ version: z.int() }).optional(),
    candidate: versionRef.optional(),
    mode: z.enum(["fixed", "linear"]).optional(),
    percent: z.number().optional(),
    start: z.number().optional(),
    step: z.number().optional(),
    everySeconds: z.number().optional(),
    ring: RingDocument.nullable().optional().openapi({
      description: "Where the share applies (Config-Rollout colos/continents); null: everywhere.",
    }),
    share: z.number().nullable().optional().openapi({ description: "The candidate's share now." }),
    fullAt: dateTime.nullable().optional(),
    startedAt: dateTime.nullable().optional(),
    startedBy: z.string().optional(),
    message: z.string().nullable().optional(),
    updatedAt: dateTime.nullable().optional(),
    updatedBy: z.string().nullable().optional(),
    endedAt: dateTime.nullable().optional(),
    endedBy: z.string().nullable().optional(),
    resultVersion: z.int().nullable().optional(),
    gates: z
      .object({
        maxRejected: z.number().nullable(),
        minClients: z.int().nullable(),
        bakeSeconds: z.int(),
        bakedAt: dateTime.nullable(),
      })
      .nullable()
      .optional()
      .openapi({ description: "Health gates from Config-Rollout (max-rejected, min-clients, bake)." }),
    autoAbort: AutoAbortDocument.nullable()
      .optional()
      .openapi({ description: "Why the origin aborted the rollout by itself, with the figures." }),
    distribution: distribution.optional(),
  })
  .openapi("RolloutStatus");

/** The body of POST …/-/rollout/alarm (optional: a bare POST is an alarm named "external"). */
export const RolloutAlarm = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9._:/ -]{1,128}$/, {
      error: "name must be 1–128 characters of A-Z a-z 0-9 . _ : / - and space.",
    })
    .optional(),
  detail: z
    .string()
    .max(500, { error: "detail is limited to 500 characters." })
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
    .refine((text) => !/[\u0000-\u001f\u007f]/.test(text), {
      error: "detail must not contain control characters.",
    })
    .optional(),
});

export const PublishResult = WriteResult.extend({
  rollout: RolloutStatus.optional().openapi({
    description: "With Config-Rollout: the rollout just started.",
  }),
}).openapi("PublishResult");

/** One side of a rollout in the fleet view: its clients and their reports on the version meant for them. */
const FleetCohort = z.object({
  clients: z.int(),
  converged: z.number(),
  applied: z.int(),
  rejected: z.int(),
});

export const FleetDocument = z
  .object({
    key: z.string(),
    window: z.int(),
    clients: z.int(),
    versions: z.array(
      z.object({ version: z.int(), clients: z.int(), applied: z.int(), rejected: z.int() }).openapi({
        description:
          "Clients served the version, and clients whose Config-Client-Status names it applied / rejected.",
      }),
    ),
    current: z.int(),
    converged: z.number().openapi({ description: "0–1: the share holding the version meant for them." }),
    rollout: z
      .object({
        candidate: z.int(),
        stable: z.int(),
        share: z.number(),
        cohorts: z.object({ candidate: FleetCohort, stable: FleetCohort }),
      })
      .nullable(),
    locations: z.array(
      z.object({
        colo: z.string(),
        clients: z.int(),
        converged: z.number(),
        applied: z.int(),
        rejected: z.int(),
        inRing: z.boolean().optional().openapi({
          description: "During a rollout with a ring: whether its share applies at this colo.",
        }),
      }),
    ),
    at: dateTime,
  })
  .openapi("FleetDocument");

export const JsonPatch = z
  .array(
    z.object({
      op: z.enum(["add", "remove", "replace", "move", "copy", "test"]),
      path: z.string(),
      from: z.string().optional(),
      value: z.unknown().optional(),
    }),
  )
  .openapi("JsonPatch", { description: "RFC 6902 JSON Patch." });

export const AuditEntry = z
  .object({
    id: z.int(),
    at: dateTime,
    actor: z.string(),
    action: z.string(),
    key: z.string().nullable(),
    fromVersion: z.int().nullable(),
    toVersion: z.int().nullable(),
    message: z.string().nullable(),
    digest: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi("AuditEntry");

export const AuditPage = z
  .object({ namespace: z.string().nullable(), entries: z.array(AuditEntry), next: z.string().nullable() })
  .openapi("AuditPage");

/** One year: RFC 9111 §5.2 leaves max-age open; a cache lifetime beyond a year has no use here. */
export const MAX_CACHE_SECONDS = 31_536_000;
const cacheSeconds = (name: string) =>
  z
    .int({ error: `${name} must be an integer from 0 to ${MAX_CACHE_SECONDS}.` })
    .min(0, { error: `${name} must be an integer from 0 to ${MAX_CACHE_SECONDS}.` })
    .max(MAX_CACHE_SECONDS, { error: `${name} must be an integer from 0 to ${MAX_CACHE_SECONDS}.` });
const freshnessError = `freshnessTtl must be an integer from ${MIN_FRESHNESS_TTL} to ${MAX_FRESHNESS_TTL}.`;
const visibility = z.enum(["public", "private"], { error: 'visibility must be "public" or "private".' });
const approvalTtlError = `approvalTtl must be an integer from ${MIN_APPROVAL_TTL} to ${MAX_APPROVAL_TTL}.`;
const approval = z
  .enum(["none", "required"], { error: 'approval must be "none" or "required".' })
  .openapi({ description: "required: writes become change requests a second admin approves." });

export const SettingsPatch = z
  .strictObject({
    visibility: visibility.optional(),
    maxAge: cacheSeconds("maxAge").optional(),
    staleWhileRevalidate: cacheSeconds("staleWhileRevalidate").optional(),
    staleIfError: cacheSeconds("staleIfError").optional(),
    freshnessTtl: z
      .int({ error: freshnessError })
      .min(MIN_FRESHNESS_TTL, { error: freshnessError })
      .max(MAX_FRESHNESS_TTL, { error: freshnessError })
      .optional()
      .openapi({ description: "Seconds a Config-Freshness proof is valid; re-signed at half of it." }),
    approval: approval.optional(),
    approvalTtl: z
      .int({ error: approvalTtlError })
      .min(MIN_APPROVAL_TTL, { error: approvalTtlError })
      .max(MAX_APPROVAL_TTL, { error: approvalTtlError })
      .optional()
      .openapi({ description: "Seconds a change request stays approvable (default 86400)." }),
  })
  .openapi("SettingsPatch", { description: "Every member optional: a partial update." });

export const NamespaceDocument = z
  .object({
    namespace: z.string(),
    visibility,
    maxAge: z.int(),
    staleWhileRevalidate: z.int(),
    staleIfError: z.int(),
    freshnessTtl: z.int(),
    approval,
    approvalTtl: z.int(),
  })
  .openapi("NamespaceSettings");

export const DEFAULT_READ_TOKEN_TTL = 86_400;
export const MIN_READ_TOKEN_TTL = 60;
const ttlError = `ttl must be an integer from ${MIN_READ_TOKEN_TTL} to ${MAX_READ_TOKEN_TTL}.`;
export const TokenRequest = z
  .strictObject({
    scope: z
      .string({ error: 'scope must be "read:<namespace>" or "read:*".' })
      .refine(isReadScope, { error: 'scope must be "read:<namespace>" or "read:*".' }),
    ttl: z
      .int({ error: ttlError })
      .min(MIN_READ_TOKEN_TTL, { error: ttlError })
      .max(MAX_READ_TOKEN_TTL, { error: ttlError })
      .default(DEFAULT_READ_TOKEN_TTL),
  })
  .openapi("TokenRequest");

export const TokenDocument = z
  .object({ token: z.string(), scope: z.string(), expiresAt: dateTime })
  .openapi("ReadToken");

export const SchemaSummary = z
  .object({
    key: z.string(),
    digest: z.string(),
    size: z.int(),
    updatedAt: dateTime,
    updatedBy: z.string(),
    changed: z.boolean().optional(),
    deleted: z.literal(true).optional(),
  })
  .openapi("SchemaSummary");

export const StatusDocument = z
  .object({
    at: dateTime,
    namespaces: z.array(
      z.object({
        namespace: z.string(),
        visibility,
        keys: z.array(z.record(z.string(), z.unknown())),
        rollouts: z.array(z.record(z.string(), z.unknown())),
        pending: z.array(z.record(z.string(), z.unknown())),
        lastPublish: z.record(z.string(), z.unknown()).nullable(),
        drainFailures: z.number(),
        recentErrors: z.array(z.unknown()),
      }),
    ),
    truncated: z.boolean(),
    totals: z.object({ namespaces: z.int(), keys: z.int(), rollouts: z.int(), pending: z.int() }),
  })
  .openapi("Status");

export type WriteResultDocument = z.infer<typeof WriteResult>;
export type DeleteResultDocument = z.infer<typeof DeleteResult>;
export type HistoryPageDocument = z.infer<typeof HistoryPage>;
export type VersionSummaryDocument = z.infer<typeof VersionSummary>;
export type RolloutStatusDocument = z.infer<typeof RolloutStatus>;
export type FleetViewDocument = z.infer<typeof FleetDocument>;
export type AuditEntryDocument = z.infer<typeof AuditEntry>;
export type AuditPageDocument = z.infer<typeof AuditPage>;
export type SettingsPatchInput = z.input<typeof SettingsPatch>;
export type NamespaceSettingsDocument = z.infer<typeof NamespaceDocument>;
export type TokenDocumentType = z.infer<typeof TokenDocument>;
export type SchemaSummaryDocument = z.infer<typeof SchemaSummary>;
export type StatusDocumentType = z.infer<typeof StatusDocument>;

/** Where a change set is capped: members per set (its bytes are capped in routes/changes.ts). */
export const MAX_CHANGES = 100;

export const ChangeSetRequest = z
  .strictObject({
    message: z.string().max(1000, "message is at most 1000 characters.").optional(),
    changes: z
      .array(
        z.strictObject({
          key: z.string().openapi({ description: "A key of the set's one namespace." }),
          content: z.unknown().optional().openapi({
            description: "The new JSON document (stored compactly serialised). Give this or `delete`.",
          }),
          delete: z.literal(true).optional().openapi({ description: "Tombstone the key instead." }),
        }),
      )
      .min(1, "changes must name at least one key.")
      .max(MAX_CHANGES, `changes names at most ${MAX_CHANGES} keys.`),
  })
  .openapi("ChangeSetRequest");

export const ChangeSetResult = z
  .object({
    namespace: z.string(),
    applied: z.boolean().openapi({ description: "False when every member was already as asked." }),
    changes: z.array(
      z.object({
        key: z.string(),
        outcome: z.enum(["published", "unchanged", "deleted"]),
        version: z.int(),
        etag: z.string().nullable(),
        digest: z.string().nullable(),
      }),
    ),
    distribution,
  })
  .openapi("ChangeSetResult");

export const BundleRequest = z
  .strictObject({
    keys: z
      .array(z.string())
      .min(1, "keys must name at least one key.")
      .max(MAX_BUNDLE_KEYS, `keys names at most ${MAX_BUNDLE_KEYS} keys.`),
  })
  .openapi("BundleRequest");

export const BundleDocument = z
  .object({
    namespace: z.string(),
    name: z.string(),
    keys: z.array(z.string()),
    version: z
      .int()
      .openapi({ description: "The manifest's version, bumped whenever a member's live version changes." }),
    members: z.record(z.string(), z.object({ version: z.int(), digest: z.string() })),
    updatedAt: dateTime,
    updatedBy: z.string(),
    distribution: distribution.optional(),
  })
  .openapi("BundleDocument");

export * from "./contract-change-requests";
