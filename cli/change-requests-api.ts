/**
 * The origin's four-eyes routes (`/v1/change-requests/{ns}…`, docs/api.md "Change requests") as
 * typed calls for `fleetconf changes`, parsed by the origin's own schemas (origin/contract.ts).
 */
import { z } from "@hono/zod-openapi";
import { ChangeRequest, type ChangeRequestDocument, ChangeRequestPage, JsonPatch } from "../origin/contract";
import { type AdminApi, documentOf, type Held } from "./admin-api";

export type { ChangeRequestDocument };
export type ChangeRequestList = z.infer<typeof ChangeRequestPage>;

const JSON_BODY = { "Content-Type": "application/json" };
const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

const Shown = z.object({
  changeRequest: ChangeRequest,
  diff: JsonPatch.nullable(),
  members: z
    .array(z.object({ key: z.string(), delete: z.boolean(), diff: JsonPatch.nullable() }))
    .nullable()
    .optional(),
});
/** An approval answers as the write it applied, plus the request: the write's members stay loose. */
const Decided = z.looseObject({ changeRequest: ChangeRequest });

export type ShownRequest = z.infer<typeof Shown>;
export type DecidedRequest = z.infer<typeof Decided>;

export async function listChangeRequests(
  api: AdminApi,
  namespace: string,
  query: { state?: string; limit?: number; cursor?: string },
): Promise<ChangeRequestList> {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
  const suffix = params.size > 0 ? `?${params}` : "";
  return documentOf(ChangeRequestPage, await api.call("GET", `/v1/change-requests/${namespace}${suffix}`));
}

export async function showChangeRequest(api: AdminApi, namespace: string, id: number): Promise<ShownRequest> {
  return documentOf(Shown, await api.call("GET", `/v1/change-requests/${namespace}/${id}`));
}

export async function decideChangeRequest(
  api: AdminApi,
  namespace: string,
  id: number,
  decision: { approve: true; message?: string } | { approve: false; reason: string },
): Promise<DecidedRequest> {
  const path = `/v1/change-requests/${namespace}/${id}/${decision.approve ? "approve" : "reject"}`;
  const body = decision.approve
    ? decision.message === undefined
      ? undefined
      : bytes({ message: decision.message })
    : bytes({ reason: decision.reason });
  const answer = await api.call("POST", path, body === undefined ? {} : { body, headers: JSON_BODY });
  return documentOf(Decided, answer);
}

/** The line every held write prints: the request to review and who must approve it. */
export function heldLine(held: Held): string {
  return `change request ${held.held.namespace}/${held.held.id} created — needs approval by another admin`;
}
