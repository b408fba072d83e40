/**
 * Who may read a config (DESIGN §3, §5). Public namespaces are open to everyone and a token sent
 * to one is ignored, not checked: visibility is the namespace's decision, and a client's stale
 * token must not break reads that need none. Private namespaces (the default) need
 * `Authorization: Bearer <read token>`: missing, invalid or expired → 401 with a Bearer
 * challenge; valid but not covering the namespace → 403 (RFC 6750 §3.1 `insufficient_scope`).
 */
import type { Context } from "hono";
import { FleetconfError, scopeCovers } from "../../core";
import type { EdgeHonoEnv } from "../app-env";

/** Resolves when the request may read `namespace` (private); throws the 401/403 problem otherwise. */
export async function authorizeRead(c: Context<EdgeHonoEnv>, namespace: string): Promise<void> {
  const token = await c.get("services").readTokens.verify(c.req.header("Authorization"));
  if (!scopeCovers(token.scopes, { action: "read", namespace })) {
    throw new FleetconfError("forbidden", `The token does not grant read:${namespace}.`, {
      headers: { "WWW-Authenticate": 'Bearer realm="fleetconf", error="insufficient_scope"' },
    });
  }
  // The fleet view ties a client id to this subject, so one token cannot skew another's rows.
  c.set("readSubject", token.sub);
}
