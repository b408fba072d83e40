/** Conditional request evaluation (RFC 9110 §13). Pure: headers in, decision out. */

/**
 * If-None-Match (RFC 9110 §13.1.2): true when the condition is false, i.e. the client's copy
 * matches and a 304 is due. Uses weak comparison (§8.8.3.2): `W/"x"` matches `"x"`; accepts a
 * comma-separated list and `*`.
 */
export function ifNoneMatchHits(header: string | null | undefined, etag: string): boolean {
  if (header === null || header === undefined) return false;
  const trimmed = header.trim();
  if (trimmed === "*") return true;
  const opaque = stripWeak(etag);
  for (const candidate of splitEntityTags(trimmed)) {
    if (stripWeak(candidate) === opaque) return true;
  }
  return false;
}

/**
 * If-Match (RFC 9110 §13.1.1): strong comparison; true when the condition holds.
 */
export function ifMatchHolds(header: string, etag: string): boolean {
  const trimmed = header.trim();
  if (trimmed === "*") return true;
  return splitEntityTags(trimmed).some((candidate) => !candidate.startsWith("W/") && candidate === etag);
}

/** Syntax check for an entity-tag list (RFC 9110 §8.8.3): `*` or `1#entity-tag`. */
export function isEntityTagList(header: string): boolean {
  const trimmed = header.trim();
  if (trimmed === "*") return true;
  const tags = splitEntityTags(trimmed);
  return tags.length > 0 && tags.every((tag) => /^(W\/)?"[\x21\x23-\x7e\x80-\xff]*"$/.test(tag));
}

/**
 * If-Modified-Since (RFC 9110 §13.1.3), evaluated only without If-None-Match: true when the
 * resource has not changed since the date (HTTP dates have one-second precision).
 */
export function notModifiedSince(header: string | null | undefined, lastModifiedMs: number): boolean {
  if (!header) return false;
  const since = Date.parse(header);
  if (Number.isNaN(since)) return false;
  return Math.floor(lastModifiedMs / 1000) * 1000 <= since;
}

function stripWeak(tag: string): string {
  return tag.startsWith("W/") ? tag.slice(2) : tag;
}

function splitEntityTags(list: string): string[] {
  // Entity tags cannot contain '"' inside, so splitting on commas outside quotes is enough.
  const out: string[] = [];
  let current = "";
  let quoted = false;
  for (const ch of list) {
    if (ch === '"') quoted = !quoted;
    if (ch === "," && !quoted) {
      if (current.trim()) out.push(current.trim());
      current = "";
    } else current += ch;
  }
  if (current.trim()) out.push(current.trim());
  return out;
}
