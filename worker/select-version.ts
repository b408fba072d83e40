/**
 * Which version of a key a request is served: the stable version, or during a staged rollout the
 * candidate for clients in its cohort (core/rollout.ts has the math). The share is computed from
 * the head and the edge clock on every request, so a linear rollout grows without a write per
 * step, and cohorts are nested: a client on the candidate at p% stays on it at every higher p.
 */
import { type HeadRecord, inRing, type RequestLocation, servesCandidate, shareAt } from "../core";

export interface Selection {
  version: number;
  /** Set while a rollout runs: which side this request fell on and the share at this moment. */
  rollout: { role: "candidate" | "stable"; share: number; ring: "in" | "out" | null } | null;
}

/**
 * `locate` says where the request reached the edge (worker/http/location.ts); it is called only
 * when the rollout has a ring, so reads outside ring rollouts never touch `request.cf`.
 */
export function selectVersion(
  head: HeadRecord,
  clientId: string | null,
  nowMs: number,
  locate: () => RequestLocation | null,
): Selection {
  const rollout = head.rollout;
  if (rollout === null) return { version: head.version, rollout: null };
  const share = shareAt(rollout, nowMs);
  const location = rollout.ring ? locate() : null;
  const ring = rollout.ring ? (inRing(rollout.ring, location) ? "in" : "out") : null;
  return servesCandidate(head.key, rollout, clientId, nowMs, location)
    ? { version: rollout.candidate.version, rollout: { role: "candidate", share, ring } }
    : { version: head.version, rollout: { role: "stable", share, ring } };
}

/**
 * Whether `?version=N` names a version this location knows of: any from the delete generation's
 * floor up to the head's, or the rollout candidate. A version published after the head this location holds is 404 until the
 * head refreshes (at most max-age later), which spares KV a read per guessed version.
 */
export function isKnownVersion(head: HeadRecord, version: number): boolean {
  // Below the floor: published before the key's last delete, never served again (DESIGN §8).
  if (version < (head.floor ?? 1)) return false;
  return version <= head.version || version === head.rollout?.candidate.version;
}

/** Whether `?version=N` names a version whose bytes were redacted (answered 410 Gone). */
export function isRedacted(head: HeadRecord, version: number): boolean {
  return head.redacted?.includes(version) ?? false;
}
