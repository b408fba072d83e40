/**
 * Where a request reached the edge, from `request.cf` (colo and continent), for rollout rings
 * (core/rings.ts). Without `cf` (a request not from Cloudflare's front end) the location is
 * unknown, and such a request is in no ring.
 */
import type { RequestLocation } from "../../core";

export function requestLocation(request: Request): RequestLocation | null {
  const cf = request.cf;
  if (cf === undefined) return null;
  const colo = typeof cf.colo === "string" ? cf.colo : null;
  const continent = typeof cf.continent === "string" ? cf.continent : null;
  return colo === null && continent === null ? null : { colo, continent };
}
