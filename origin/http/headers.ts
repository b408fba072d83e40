/** Request headers of the write routes, parsed once: preconditions and the audit message. */
import { FleetconfError, isEntityTagList } from "../../core";
import type { Preconditions } from "../store/types";

export const MAX_MESSAGE_CHARS = 1000;

/** If-Match / If-None-Match, syntax-checked (RFC 9110 §8.8.3); evaluated by the store under its lock. */
export function readPreconditions(headers: Headers, options: { ifNoneMatch: boolean }): Preconditions {
  return {
    ifMatch: parseEntityTags("If-Match", headers.get("If-Match")),
    ifNoneMatch: options.ifNoneMatch ? parseEntityTags("If-None-Match", headers.get("If-None-Match")) : null,
  };
}

/** One If-Match / If-None-Match value: `*` or a list of quoted entity tags, or null when absent. */
export function parseEntityTags(name: string, value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (!isEntityTagList(value)) {
    throw new FleetconfError("invalid_request", `${name} must be * or a list of quoted entity tags.`);
  }
  return value;
}

/**
 * `Config-Message`: a note for the audit log, at most 1000 characters. Non-ASCII text travels as
 * its UTF-8 bytes. Runtimes differ in how they hand such bytes to JavaScript: workerd behind
 * `wrangler dev` decodes them as UTF-8, a Fetch implementation keeps one character per byte
 * (ISO-8859-1). Both are accepted: a value whose characters are all ≤ U+00FF and form valid UTF-8
 * as bytes is decoded; otherwise it is taken as already decoded. Invalid UTF-8 (seen as U+FFFD)
 * and control characters are refused, so a message cannot forge lines in logs or terminals.
 */
export function readConfigMessage(headers: Headers): string | null {
  return parseConfigMessage(headers.get("Config-Message"));
}

/** A `Config-Message` value (readConfigMessage), or null when absent or blank. */
export function parseConfigMessage(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined) return null;
  const text = (bytesAsUtf8(raw) ?? raw).trim();
  if (text.includes("\uFFFD")) {
    throw new FleetconfError("invalid_request", "Config-Message must be UTF-8 text.");
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
  if (/[\u0000-\u001f\u007f]/.test(text)) {
    throw new FleetconfError("invalid_request", "Config-Message must not contain control characters.");
  }
  if ([...text].length > MAX_MESSAGE_CHARS) {
    throw new FleetconfError(
      "invalid_request",
      `Config-Message is limited to ${MAX_MESSAGE_CHARS} characters.`,
    );
  }
  return text.length > 0 ? text : null;
}

/** The value read as one byte per character and decoded as UTF-8, or null if it is not that. */
function bytesAsUtf8(value: string): string | null {
  const codes = Array.from(value, (ch) => ch.charCodeAt(0));
  if (!codes.some((code) => code >= 0x80) || codes.some((code) => code > 0xff)) return null;
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(codes));
  } catch {
    return null;
  }
}
