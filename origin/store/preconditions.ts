/**
 * Conditional writes (RFC 9110 §13.1.1, §13.1.2, evaluated in the order of §13.2.2): If-Match
 * first, then If-None-Match. The "selected representation" is the key's live version; a deleted
 * or never-published key has none, so `If-Match: *` fails and `If-None-Match: *` holds there.
 */
import { ifMatchHolds, ifNoneMatchHits } from "../../core";
import type { Preconditions, VersionRecord } from "./types";

/** Why the write must not happen (412), or null when the preconditions hold. */
export function preconditionFailure(live: VersionRecord | null, conditions: Preconditions): string | null {
  if (conditions.ifMatch !== null) {
    if (live === null) return "If-Match failed: the key has no current version.";
    if (!ifMatchHolds(conditions.ifMatch, live.etag)) {
      return `If-Match failed: the current version is ${live.version} (ETag ${live.etag}).`;
    }
  }
  if (
    conditions.ifNoneMatch !== null &&
    live !== null &&
    ifNoneMatchHits(conditions.ifNoneMatch, live.etag)
  ) {
    return `If-None-Match failed: the key already has version ${live.version} (ETag ${live.etag}).`;
  }
  return null;
}
