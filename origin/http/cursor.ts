/**
 * Opaque pagination cursors and `limit` parameters. A cursor is base64url of a tagged position so
 * clients cannot mistake it for a version number and the format can change without breaking them.
 */
import { FleetconfError, fromBase64Url, toBase64Url, utf8Bytes } from "../../core";

export function encodeCursor(tag: string, position: number | null): string | null {
  return position === null ? null : toBase64Url(utf8Bytes(`${tag}:${position}`));
}

export function decodeCursor(tag: string, raw: string | undefined): number | null {
  if (raw === undefined) return null;
  let text = "";
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(fromBase64Url(raw));
  } catch {
    // Falls through to the error below.
  }
  const match = new RegExp(`^${tag}:([1-9][0-9]{0,14})$`).exec(text);
  if (!match?.[1]) throw new FleetconfError("invalid_request", "The cursor is not one this API returned.");
  return Number(match[1]);
}

export function parseLimit(raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^[1-9][0-9]{0,4}$/.test(raw) || Number(raw) > max) {
    throw new FleetconfError("invalid_request", `limit must be an integer from 1 to ${max}.`);
  }
  return Number(raw);
}
