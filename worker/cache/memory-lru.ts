/**
 * The isolate-memory tier: a least-recently-used map bounded by the bytes its entries hold, not
 * by their count, because configs range from a few bytes to a megabyte and an isolate has 128 MB.
 * Each entry is charged its payload plus a fixed overhead for the key, the Map slot and the
 * record around it, so a flood of tiny entries is bounded too.
 */

/**
 * Bytes charged per entry on top of its payload: Map slot, the record objects around it, the
 * parsed head or frozen header list. Measured (BENCHMARKS.md §7): the JS heap holds ≈ 2.7 KiB per
 * key beyond its body bytes for its two entries (head and snapshot), so 1 KiB each keeps a flood of
 * tiny keys within the budget (256 B, the old figure, let them hold ≈ 1.6 times it).
 */
export const ENTRY_OVERHEAD_BYTES = 1024;
export const DEFAULT_MEMORY_CACHE_BYTES = 32 * 1024 * 1024;

interface Slot<V> {
  value: V;
  bytes: number;
}

export class ByteBoundedLru<V> {
  readonly maxBytes: number;
  // A Map iterates in insertion order, so re-inserting on access keeps the oldest entry first.
  readonly #slots = new Map<string, Slot<V>>();
  #bytes = 0;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** Bytes currently charged (payload + overhead of every entry). */
  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#slots.size;
  }

  /** Returns the value and marks it most recently used. */
  get(id: string): V | undefined {
    const slot = this.#slots.get(id);
    if (slot === undefined) return undefined;
    this.#slots.delete(id);
    this.#slots.set(id, slot);
    return slot.value;
  }

  /** Returns the value without changing its recency. */
  peek(id: string): V | undefined {
    return this.#slots.get(id)?.value;
  }

  has(id: string): boolean {
    return this.#slots.has(id);
  }

  /**
   * Stores a value charged `payloadBytes` (+ overhead), evicting least recently used entries until
   * the total fits. A value larger than the whole budget is not stored; returns whether it was.
   */
  set(id: string, value: V, payloadBytes: number): boolean {
    this.delete(id);
    const bytes = payloadBytes + id.length * 2 + ENTRY_OVERHEAD_BYTES;
    if (bytes > this.maxBytes) return false;
    this.#slots.set(id, { value, bytes });
    this.#bytes += bytes;
    for (const [oldest, slot] of this.#slots) {
      if (this.#bytes <= this.maxBytes) break;
      this.#slots.delete(oldest);
      this.#bytes -= slot.bytes;
    }
    return true;
  }

  delete(id: string): boolean {
    const slot = this.#slots.get(id);
    if (slot === undefined) return false;
    this.#slots.delete(id);
    this.#bytes -= slot.bytes;
    return true;
  }

  /** Deletes every entry whose id starts with `prefix`; returns how many. O(n), for rare purges. */
  deletePrefix(prefix: string): number {
    let deleted = 0;
    for (const id of [...this.#slots.keys()]) {
      if (id.startsWith(prefix) && this.delete(id)) deleted++;
    }
    return deleted;
  }
}

/** Parses `MEMORY_CACHE_BYTES`: a positive integer, else the 32 MiB default. */
export function memoryBudgetFrom(raw: string | undefined): number {
  if (raw === undefined || !/^[1-9][0-9]{0,12}$/.test(raw.trim())) return DEFAULT_MEMORY_CACHE_BYTES;
  return Number(raw.trim());
}
