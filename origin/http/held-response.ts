/**
 * How the API renders a change request (contract ChangeRequest), and the `202 Accepted` a gated
 * write answers with when the namespace requires approval (RFC 9110 §15.3.3: accepted for
 * processing, not yet acted upon), `Location` naming the request to review.
 */
import type { Context } from "hono";
import { annotate } from "../../core";
import type { OriginApp } from "../app-env";
import { type ChangeRequestDocument, ChangeRequestHeld } from "../contract";
import type { ChangeRequestRecord } from "../store/types";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function changeRequestPath(request: Pick<ChangeRequestRecord, "namespace" | "id">): string {
  return `/v1/change-requests/${request.namespace}/${request.id}`;
}

export function changeRequestDocument(request: ChangeRequestRecord): ChangeRequestDocument {
  const { rollout } = request;
  return {
    id: request.id,
    namespace: request.namespace,
    state: request.state,
    kind: request.kind,
    key: request.key,
    keys: request.keys,
    author: request.author,
    createdAt: new Date(request.createdAt).toISOString(),
    expiresAt: new Date(request.expiresAt).toISOString(),
    message: request.message,
    digest: request.digest,
    size: request.size,
    ifMatch: request.ifMatch,
    ifNoneMatch: request.ifNoneMatch,
    baseEtag: request.baseEtag,
    rollout: rollout === null ? null : { ...rollout, gates: rollout.gates ?? null },
    to: request.to,
    decidedAt: iso(request.decidedAt),
    decidedBy: request.decidedBy,
    reason: request.reason,
    resultVersion: request.resultVersion,
  };
}

/** 202 with Location and the pending request: nothing changed yet. */
export function heldResponse(c: Context<OriginApp>, request: ChangeRequestRecord) {
  annotate(c, { changeRequest: request.id, held: true });
  return c.json({ changeRequest: changeRequestDocument(request) }, 202, {
    Location: changeRequestPath(request),
    "Cache-Control": "no-store",
  });
}

/** The answer of a write the namespace's approval setting holds (docs/operations.md, "Approvals"). */
export const HELD = {
  202: {
    description: "The namespace requires approval: a change request was created, nothing changed yet.",
    content: { "application/json": { schema: ChangeRequestHeld } },
  },
};
