import { describe, expect, it } from "vitest";
import { readWithin } from "../../../core";

function streamOf(chunks: number[], onCancel?: () => void): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const size = chunks[i++];
      if (size === undefined) controller.close();
      else controller.enqueue(new Uint8Array(size).fill(i));
    },
    cancel: () => onCancel?.(),
  });
}

describe("readWithin", () => {
  it("reads a stream of several chunks into one array, in order", async () => {
    const body = await readWithin(streamOf([3, 2, 1]), 6);
    expect(body && [...body]).toEqual([1, 1, 1, 2, 2, 3]);
  });

  it("returns an empty array for no stream", async () => {
    expect(await readWithin(null, 10)).toEqual(new Uint8Array(0));
  });

  it("stops at the first chunk past the limit, cancels the stream and returns null", async () => {
    let cancelled = false;
    let pulled = 0;
    const stream = streamOf([4, 4, 4, 4, 4], () => {
      cancelled = true;
    });
    const counting = stream.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          pulled++;
          controller.enqueue(chunk);
        },
      }),
    );
    expect(await readWithin(counting, 9)).toBeNull();
    expect(pulled).toBeLessThanOrEqual(4);
    expect(cancelled).toBe(true);
  });
});
