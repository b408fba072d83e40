/**
 * Validation of published config content (DESIGN §2): valid UTF-8, valid JSON (RFC 8259),
 * nesting at most 64 deep, no duplicate member names in one object, within the size limit.
 *
 * Duplicate names are refused because RFC 8259 §4 leaves their meaning to each parser
 * ("the names within an object SHOULD be unique"), so two services reading the same bytes could
 * see different configs; I-JSON (RFC 7493 §2.3) makes it a MUST, and so do we.
 * The validator scans the bytes once without building values, so a hostile document costs
 * linear time and constant stack.
 */
import { FleetconfError } from "./errors";

export const MAX_DEPTH = 64;
export const DEFAULT_MAX_CONFIG_BYTES = 1024 * 1024;
/** Workers KV's own value limit; MAX_CONFIG_BYTES is clamped below it. */
export const KV_VALUE_LIMIT_BYTES = 25 * 1024 * 1024;

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export type JsonCheck = { ok: true; text: string } | { ok: false; reason: string; offset?: number };

/** Checks bytes are a strict JSON document as fleetconf accepts it, returning the decoded text. */
export function checkJsonDocument(bytes: Uint8Array, maxDepth = MAX_DEPTH): JsonCheck {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { ok: false, reason: "the body is not valid UTF-8" };
  }
  if (text.charCodeAt(0) === 0xfeff)
    return { ok: false, reason: "a byte order mark is not allowed", offset: 0 };
  const error = scanJson(text, maxDepth);
  return error === null ? { ok: true, text } : { ok: false, ...error };
}

/** Like checkJsonDocument, but throws `invalid_json` (400). */
export function requireJsonDocument(bytes: Uint8Array, maxDepth = MAX_DEPTH): string {
  const result = checkJsonDocument(bytes, maxDepth);
  if (!result.ok) {
    const where = result.offset === undefined ? "" : ` at offset ${result.offset}`;
    throw new FleetconfError("invalid_json", `Invalid JSON: ${result.reason}${where}.`);
  }
  return result.text;
}

interface ScanError {
  reason: string;
  offset: number;
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

function scanJson(s: string, maxDepth: number): ScanError | null {
  let i = 0;
  const n = s.length;
  // Each open container: its kind and, for objects, the member names seen so far.
  const stack: Array<{ object: boolean; names: Set<string> | null }> = [];
  const fail = (reason: string, offset = i): ScanError => ({ reason, offset });
  const skipWs = () => {
    while (i < n && WS.has(s.charCodeAt(i))) i++;
  };

  const readString = (): string | ScanError => {
    // s[i] is the opening quote.
    const start = ++i;
    let plain = true;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        const raw = s.slice(start, i);
        i++;
        return plain ? raw : (JSON.parse(`"${raw}"`) as string);
      }
      if (c < 0x20) return fail("control character in string");
      if (c === 0x5c) {
        plain = false;
        const e = s.charCodeAt(i + 1);
        if (e === 0x75) {
          if (!/^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) return fail("bad \\u escape");
          i += 6;
          continue;
        }
        if (!'"\\/bfnrt'.includes(s[i + 1] ?? "")) return fail("bad escape");
        i += 2;
        continue;
      }
      i++;
    }
    return fail("unterminated string");
  };

  const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

  // Reads one scalar value or opens a container; returns an error, or null.
  const readValue = (): ScanError | null => {
    skipWs();
    if (i >= n) return fail("unexpected end of input");
    const c = s[i];
    if (c === "{" || c === "[") {
      if (stack.length >= maxDepth) return fail(`nesting deeper than ${maxDepth}`);
      stack.push({ object: c === "{", names: c === "{" ? new Set() : null });
      i++;
      return null;
    }
    if (c === '"') {
      const r = readString();
      return typeof r === "string" ? null : r;
    }
    for (const literal of ["true", "false", "null"]) {
      if (s.startsWith(literal, i)) {
        i += literal.length;
        return null;
      }
    }
    NUMBER.lastIndex = i;
    if (NUMBER.test(s)) {
      i = NUMBER.lastIndex;
      return null;
    }
    return fail("unexpected character");
  };

  let error = readValue();
  if (error) return error;
  // After a value (or an opening bracket), walk until the stack is empty.
  let justOpened = stack.length > 0;
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as { object: boolean; names: Set<string> | null };
    skipWs();
    if (i >= n) return fail("unexpected end of input");
    const c = s[i];
    const close = top.object ? "}" : "]";
    if (c === close && justOpened) {
      stack.pop();
      i++;
      justOpened = false;
      continue;
    }
    if (!justOpened) {
      if (c === close) {
        stack.pop();
        i++;
        continue;
      }
      if (c !== ",") return fail(`expected ',' or '${close}'`);
      i++;
      skipWs();
    }
    justOpened = false;
    if (top.object) {
      if (s[i] !== '"') return fail("expected a member name");
      const name = readString();
      if (typeof name !== "string") return name;
      if (top.names?.has(name)) return fail(`duplicate member name ${JSON.stringify(name.slice(0, 64))}`);
      top.names?.add(name);
      skipWs();
      if (s[i] !== ":") return fail("expected ':'");
      i++;
    }
    const depthBefore = stack.length;
    error = readValue();
    if (error) return error;
    justOpened = stack.length > depthBefore;
  }
  skipWs();
  if (i !== n) return fail("trailing data after the document");
  return null;
}
