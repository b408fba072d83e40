/**
 * Unique names for tests that share state (one KV, one Cache API, one wrangler dev stack), so no
 * test ever sees another's keys. Runs in Node and in workerd (Web Crypto's randomUUID only).
 */

/** A namespace no other test uses: `<prefix>-<10 hex chars>`, a valid namespace segment. */
export function uniqueNamespace(prefix = "t"): string {
  return `${prefix}-${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
}
