/**
 * Token scopes (DESIGN §5). Admin tokens carry a space-separated `scope` of `admin`,
 * `publish:{ns}` or `read:{ns}`; read tokens carry `read:{ns}` or `read:*`.
 * `admin` covers everything; `publish:{ns}` covers reading that namespace too.
 * `alarm:{ns}` is the narrow scope of a monitoring system (docs/rollouts.md, "External alarms"):
 * it may only stop the namespace's running rollouts (POST …/-/rollout/alarm), nothing else.
 */

export const ADMIN_AUDIENCE = "fleetconf-admin";
export const READ_AUDIENCE = "fleetconf-read";

export type Permission = { action: "admin" } | { action: "publish" | "read" | "alarm"; namespace: string };

export function parseScope(scope: unknown): string[] {
  if (typeof scope !== "string") return [];
  return scope.split(" ").filter((s) => s.length > 0);
}

export function scopeCovers(scopes: readonly string[], needed: Permission): boolean {
  if (scopes.includes("admin")) return true;
  if (needed.action === "admin") return false;
  if (needed.action === "publish") return scopes.includes(`publish:${needed.namespace}`);
  // A publisher may abort a rollout anyway; an alarm token may do nothing more than this.
  if (needed.action === "alarm")
    return scopes.includes(`alarm:${needed.namespace}`) || scopes.includes(`publish:${needed.namespace}`);
  return (
    scopes.includes(`read:${needed.namespace}`) ||
    scopes.includes(`publish:${needed.namespace}`) ||
    scopes.includes("read:*")
  );
}

/** A read token's scope: exactly `read:{ns}` or `read:*`. */
export function isReadScope(scope: string): boolean {
  return /^read:(\*|[a-z0-9][a-z0-9._-]{0,63})$/.test(scope) && scope !== "read:." && scope !== "read:..";
}
