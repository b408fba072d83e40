/**
 * Bounded reading of byte streams, shared by the origin (request bodies) and the client SDK
 * (edge responses): stop, and cancel the stream, as soon as it carries more than the limit.
 */
import { concatBytes } from "./encoding";

/** Reads `stream` to its end; null (the stream cancelled) once more than `limit` bytes arrived. */
export async function readWithin(
  stream: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<Uint8Array | null> {
  if (stream === null) return new Uint8Array(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  return chunks.length === 1 && chunks[0] ? chunks[0] : concatBytes(...chunks);
}
