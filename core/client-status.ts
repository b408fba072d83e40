/**
 * `Config-Client-Status` (DESIGN §8, "Client status"): what a client says it did with the versions
 * it was served, as an RFC 8941 dictionary — `applied=3, rejected=4;reason="schema"`. `applied` is
 * the last version it applied, `rejected` a version it refused or failed to apply, with an optional
 * short `reason` parameter. Parsed with `structured-headers` (RFC 8941/9651) rather than by hand;
 * this module only maps the dictionary onto the two integers fleetconf knows.
 */
import { parseDictionary, serializeDictionary } from "structured-headers";

export const CLIENT_STATUS_HEADER = "Config-Client-Status";
/** The longest header the edge parses; a longer one is malformed (it is a few dozen bytes in use). */
export const MAX_CLIENT_STATUS_LENGTH = 512;
/** The longest `reason` kept; a longer one is cut (it is for people reading the fleet view). */
export const MAX_REJECT_REASON_LENGTH = 200;

export interface ClientStatus {
  applied: number | null;
  rejected: number | null;
  reason: string | null;
}

/**
 * Parses the header; null when it is malformed (not an RFC 8941 dictionary, a member that is not a
 * positive integer, an unknown member, or nothing fleetconf knows). Unknown members are refused
 * rather than skipped so a typo (`aplied=3`) shows up in the edge's malformed count.
 */
export function parseClientStatus(header: string): ClientStatus | null {
  if (header.length > MAX_CLIENT_STATUS_LENGTH) return null;
  let dictionary: ReturnType<typeof parseDictionary>;
  try {
    dictionary = parseDictionary(header);
  } catch {
    return null;
  }
  const status: ClientStatus = { applied: null, rejected: null, reason: null };
  for (const [name, member] of dictionary) {
    if (name !== "applied" && name !== "rejected") return null;
    const [value, params] = member;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) return null;
    if (name === "applied") {
      if (params.size > 0) return null;
      status.applied = value;
      continue;
    }
    for (const [param, paramValue] of params) {
      if (param !== "reason" || typeof paramValue !== "string") return null;
      status.reason = paramValue.slice(0, MAX_REJECT_REASON_LENGTH);
    }
    status.rejected = value;
  }
  return status.applied === null && status.rejected === null ? null : status;
}

/** The header value for a status (what the SDK and the agent send); null when there is nothing to say. */
export function formatClientStatus(status: ClientStatus): string | null {
  const members = new Map<string, [number, Map<string, string>]>();
  if (status.applied !== null) members.set("applied", [status.applied, new Map()]);
  if (status.rejected !== null) {
    const params = new Map<string, string>();
    // sf-string allows printable ASCII only (RFC 8941 §3.3.3): anything else becomes "?".
    if (status.reason !== null)
      params.set("reason", status.reason.replace(/[^\x20-\x7e]/g, "?").slice(0, MAX_REJECT_REASON_LENGTH));
    members.set("rejected", [status.rejected, params]);
  }
  return members.size === 0 ? null : serializeDictionary(members);
}

const newer = (a: number | null, b: number | null): number | null =>
  a === null ? b : b === null ? a : Math.max(a, b);

/**
 * Folds a report into the status held for the same client, whatever order the two arrived in.
 * They can arrive out of order: a client that gives up a held long-poll to report at once
 * (client/client.ts resendIfHeld) cannot recall the request it already sent, and the edge may
 * park that one after its replacement — so arrival order is not report order. A client's
 * versions only go up (versions are never reused, a rollout's share only grows, an abort is a new
 * version), and so do the versions it reports: the higher `applied` and the higher `rejected` are
 * the newer ones. A rejection of the version it then applied is cleared, as the client clears it;
 * but one report naming the same version as applied and rejected (`applied=5, rejected=5`: the
 * application took it, then failed on it — `reportRejected` after `reportApplied`) is a rejection
 * that stands, whichever of its client's reports arrives last.
 */
export function mergeClientStatus(held: ClientStatus, report: ClientStatus): ClientStatus {
  const applied = newer(held.applied, report.applied);
  const rejected = newer(held.rejected, report.rejected);
  const failedAfterApplying = (s: ClientStatus) => s.applied === rejected && s.rejected === rejected;
  const cleared = rejected === applied && !failedAfterApplying(held) && !failedAfterApplying(report);
  if (rejected === null || cleared) return { applied, rejected: null, reason: null };
  const reason = report.rejected === rejected ? report.reason : held.reason;
  return { applied, rejected, reason };
}
