/**
 * The config documents every benchmark serves: deterministic JSON of an exact byte size, so the
 * edge (seeded through KV or the origin), the bare worker and nginx all send the same bytes.
 * Pure: imported by the Node harness and bundled into the bare worker.
 */

/** Sizes the suite uses, by the last segment of a bench key (`bench/size/64k`). */
export const SIZE_LABELS = { "1k": 1024, "4k": 4096, "64k": 65536, "1m": 1048576 } as const;
export type SizeLabel = keyof typeof SIZE_LABELS;

export function sizeOfLabel(label: string): number | null {
  return Object.hasOwn(SIZE_LABELS, label) ? SIZE_LABELS[label as SizeLabel] : null;
}

/**
 * A JSON object of exactly `bytes` bytes (ASCII, so bytes = characters): a few realistic flags
 * followed by a padding string. `seed` varies the content so two documents of one size differ.
 */
export function benchDocument(bytes: number, seed = 0): string {
  const head = `{"service":"bench","seed":${seed},"flags":{"checkout":true,"search":false,"ratio":0.25},"pad":"`;
  const tail = '"}';
  const padLength = bytes - head.length - tail.length;
  if (padLength < 0)
    throw new RangeError(`a bench document needs at least ${head.length + tail.length} bytes`);
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  let pad = "";
  // Repeating a seeded 64-char block keeps generation linear without a PRNG per byte.
  let block = "";
  for (let i = 0; i < 64; i++) block += alphabet[(i * 7 + seed * 13) % alphabet.length];
  while (pad.length < padLength) pad += block;
  return head + pad.slice(0, padLength) + tail;
}
