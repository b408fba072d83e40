/**
 * Which version of a key a request is served: the one place rollout cohort selection will live
 * (core/rollout.ts has the math). Until it lands every client gets the head's stable version.
 */
import type { HeadRecord } from "../core";

export function servedVersion(head: HeadRecord, _clientId: string | null, _nowMs: number): number {
  return head.version;
}

/**
 * Whether `?version=N` names a version this location knows of: any up to the head's, or the
 * rollout candidate. A version published after the head this location holds is 404 until the
 * head refreshes (at most max-age later), which spares KV a read per guessed version.
 */
export function isKnownVersion(head: HeadRecord, version: number): boolean {
  return version <= head.version || version === head.rollout?.candidate.version;
}
