/**
 * Four-eyes approval (docs/operations.md, "Approvals (four-eyes)"): with a namespace's `approval`
 * setting `required`, its publishes, rollbacks, deletes and change sets become change requests
 * that a second admin approves. Pure rules only: the lifetime bounds and the state a stored
 * request is in at a given time (an expired request is one still pending past `expiresAt`).
 */

export type ApprovalMode = "none" | "required";

/** A day: long enough for a reviewer in another time zone, short enough that nothing goes stale. */
export const DEFAULT_APPROVAL_TTL = 86400;
/** Five minutes: a shorter window would expire requests before anyone could read them. */
export const MIN_APPROVAL_TTL = 300;
/** A week: a request older than that reviews a namespace that has moved on. */
export const MAX_APPROVAL_TTL = 7 * 86400;

import { FleetconfError } from "./errors";

export const CHANGE_REQUEST_KINDS = ["publish", "rollback", "delete", "changes"] as const;
export type ChangeRequestKind = (typeof CHANGE_REQUEST_KINDS)[number];

export const CHANGE_REQUEST_STATES = ["pending", "approved", "rejected", "expired", "failed"] as const;
export type ChangeRequestState = (typeof CHANGE_REQUEST_STATES)[number];

/** The state a request is in at `nowMs`: a pending one past its expiry is expired, stored or not. */
export function effectiveState(
  stored: ChangeRequestState,
  expiresAt: number,
  nowMs: number,
): ChangeRequestState {
  return stored === "pending" && nowMs >= expiresAt ? "expired" : stored;
}

export function isChangeRequestState(value: string): value is ChangeRequestState {
  return CHANGE_REQUEST_STATES.some((state) => state === value);
}

/** A change request's id: a positive integer, as the 202's Location names it (else 400). */
export function parseChangeRequestId(raw: string): number {
  if (!/^[1-9][0-9]{0,14}$/.test(raw)) {
    throw new FleetconfError("invalid_request", "A change request id is a positive integer.");
  }
  return Number(raw);
}
