/**
 * The bulk evaluation's entity tag (OFREP `evaluateFlagsBulk`, RFC 9110 §8.8.3): the answer is
 * a function of the flags snapshot and the evaluation context, so its tag is derived from the
 * snapshot's ETag (unique per key and version) and a SHA-256 of the context in a canonical
 * form (members sorted at every depth), so the same context sent with its members in another
 * order revalidates as the same representation.
 */
import { sha256, toBase64Url, utf8Bytes } from "../../core";

export async function bulkEtagOf(snapshotEtag: string, context: unknown): Promise<string> {
  const digest = await sha256(utf8Bytes(`${snapshotEtag}\n${canonicalJson(context)}`));
  return `"ofrep-${toBase64Url(digest.subarray(0, 18))}"`;
}

/** JSON with object members sorted by name (code units), arrays in order: one text per value. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const members = Object.keys(value)
      .sort()
      .map((name) => `${JSON.stringify(name)}:${canonicalJson((value as Record<string, unknown>)[name])}`);
    return `{${members.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
