/** Request headers of the write routes, parsed once: preconditions and the audit message. */
import { FleetconfError, isEntityTagList } from "../../core";
import type { Preconditions } from "../store/types";

export const MAX_MESSAGE_CHARS = 1000;

/** If-Match / If-None-Match, syntax-checked (RFC 9110 §8.8.3); evaluated by the store under its lock. */
export function readPreconditions(headers: Headers, options: { ifNoneMatch: boolean }): Preconditions {
  const ifMatch = headers.get("If-Match");
  const ifNoneMatch = options.ifNoneMatch ? headers.get("If-None-Match") : null;
  for (const [name, value] of [
    ["If-Match", ifMatch],
    ["If-None-Match", ifNoneMatch],
  ] as const) {
    if (value !== null && !isEntityTagList(value)) {
      throw new FleetconfError("invalid_request", `${name} must be * or a list of quoted entity tags.`);
    }
  }
  return { ifMatch, ifNoneMatch };
}

/**
 * `Config-Message`: a note for the audit log, at most 1000 characters. Header values reach us as
 * one character per byte, so UTF-8 sent by a client is decoded here; control characters are
 * refused so a message cannot forge lines in logs or terminals.
 */
export function readConfigMessage(headers: Headers): string | null {
  const raw = headers.get("Config-Message");
  if (raw === null) return null;
  let text: string;
  try {
    const bytes = Uint8Array.from(raw, (ch) => ch.charCodeAt(0) & 0xff);
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes).trim();
  } catch {
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
