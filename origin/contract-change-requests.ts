/**
 * The documents of four-eyes change requests (routes/change-requests.ts, docs/api.md "Change
 * requests"), defined once as zod schemas as the rest of origin/contract.ts, which re-exports them.
 */
import { z } from "@hono/zod-openapi";
import { CHANGE_REQUEST_KINDS, CHANGE_REQUEST_STATES } from "../core/approval";

const dateTime = z.string().openapi({ format: "date-time" });

export const ChangeRequest = z
  .object({
    id: z.int(),
    namespace: z.string(),
    state: z.enum(CHANGE_REQUEST_STATES).openapi({
      description: "pending until approved, rejected, failed (applying it was refused) or expired.",
    }),
    kind: z.enum(CHANGE_REQUEST_KINDS),
    key: z.string().nullable().openapi({ description: "The key of a publish, rollback or delete." }),
    keys: z.array(z.string()).openapi({ description: "Every key the change touches." }),
    author: z.string(),
    createdAt: dateTime,
    expiresAt: dateTime,
    message: z.string().nullable(),
    digest: z.string().nullable().openapi({
      description: "Content-Digest of the bytes held: a publish's document, a change set's members.",
    }),
    size: z.int(),
    ifMatch: z.string().nullable(),
    ifNoneMatch: z.string().nullable(),
    baseEtag: z.string().nullable().openapi({
      description:
        "The key's live ETag when the request was made (null: none): what it was reviewed against. Approval answers 412 (and the request fails) when the key has moved on since, unless the request carried its own If-Match or If-None-Match.",
    }),
    rollout: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({ description: "The Config-Rollout of a rollout start, as parsed." }),
    to: z.int().nullable().openapi({ description: "A rollback's target version." }),
    decidedAt: dateTime.nullable(),
    decidedBy: z.string().nullable(),
    reason: z.string().nullable().openapi({
      description: "The approver's message, the rejection's reason, or why applying it failed.",
    }),
    resultVersion: z.int().nullable(),
  })
  .openapi("ChangeRequest");

export const ChangeRequestHeld = z.object({ changeRequest: ChangeRequest }).openapi("ChangeRequestHeld", {
  description: "202: the namespace requires approval; nothing changed until another admin approves.",
});

export const ChangeRequestPage = z
  .object({ namespace: z.string(), changeRequests: z.array(ChangeRequest), next: z.string().nullable() })
  .openapi("ChangeRequestPage");

const noteText = (name: string) =>
  z
    .string({ error: `${name} must be a string of at most 1000 characters.` })
    .min(1, { error: `${name} must not be empty.` })
    .max(1000, { error: `${name} must be a string of at most 1000 characters.` });

export const ApproveRequest = z.strictObject({ message: noteText("message").optional() });
export const RejectRequest = z.strictObject({ reason: noteText("reason") });

export type ChangeRequestDocument = z.infer<typeof ChangeRequest>;
export type ChangeRequestPageDocument = z.infer<typeof ChangeRequestPage>;
