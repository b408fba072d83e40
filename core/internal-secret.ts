/**
 * The shared secret on the workers' internal routes: the edge's `POST /internal/purge` (called by
 * the origin) and the origin's `POST /internal/fleet` and `GET /internal/heads/{key}` (called by
 * the edge). All carry PURGE_SECRET in one header, checked the same way on both sides.
 */
import { timingSafeEqualStrings } from "./encoding";

export const INTERNAL_SECRET_HEADER = "Fleetconf-Purge-Secret";

/**
 * Whether the header holds the configured secret, compared in constant time. An unset secret
 * matches nothing: an internal route without one is closed, not open.
 */
export function internalSecretHolds(given: string | null | undefined, secret: string | undefined): boolean {
  if (!secret || given === null || given === undefined) return false;
  return timingSafeEqualStrings(given, secret);
}
