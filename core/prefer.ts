/**
 * RFC 7240 `Prefer` request header: the `wait` preference, as long-poll reads use it (DESIGN §8).
 * A preference the server cannot use is ignored, never an error (RFC 7240 §2): a malformed or
 * non-positive `wait` reads as absent, a larger one is clamped to `max`.
 */

export const MAX_WAIT_SECONDS = 60;

/**
 * The `wait` preference in whole seconds (1..max), or null when absent or unusable. The header is
 * a comma-separated list (several `Prefer` fields arrive joined by commas); names are
 * case-insensitive, a value may be a token or a quoted string, parameters after `;` are ignored,
 * and only the first `wait` counts (RFC 7240 §2: "only the first instance is to be considered").
 */
export function preferredWait(
  header: string | null | undefined,
  max: number = MAX_WAIT_SECONDS,
): number | null {
  if (!header) return null;
  for (const item of splitOutsideQuotes(header, ",")) {
    const preference = splitOutsideQuotes(item, ";")[0] ?? "";
    const eq = preference.indexOf("=");
    const name = (eq === -1 ? preference : preference.slice(0, eq)).trim().toLowerCase();
    if (name !== "wait") continue;
    if (eq === -1) return null;
    let value = preference.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    // delta-seconds (RFC 9111 §1.2.2): digits only; a huge one is still "larger", so clamped.
    if (!/^[0-9]{1,12}$/.test(value)) return null;
    const seconds = Number(value);
    if (seconds < 1) return null;
    return Math.min(seconds, max);
  }
  return null;
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"' && text[i - 1] !== "\\") quoted = !quoted;
    if (ch === separator && !quoted) {
      parts.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}
