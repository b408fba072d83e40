/**
 * Parked long-poll requests (DESIGN §8, docs/edge.md "Long-poll"), per isolate. Waiters on one key
 * share one watch: the store's head-change events (a purge here, a refresh, a revalidation that
 * found a newer head) wake all of them at once, and one waiter, the watch's leader, runs the
 * periodic check (`check`) every `tickMs`, so 10,000 waiters on a key cost one check per tick,
 * as one waiter does.
 *
 * Why every waiter sleeps on its own timer: workerd cancels a request as hung when nothing it
 * waits for belongs to its own context (worker/cache/single-flight.ts), and a timer is such an
 * event. For the same reason the leader's periodic check runs on the leader's own timer, and
 * leadership passes to another waiter (who then arms its own timer) when the leader leaves.
 */

export type ParkOutcome = "changed" | "deadline" | "aborted";

export interface ParkRequest {
  key: string;
  /** How long to wait at most, in ms. */
  waitMs: number;
  /** The request's signal: aborted when the client disconnects (`enable_request_signal`). */
  signal: AbortSignal | undefined;
  /** The shared periodic check, run by the watch's leader every tick. */
  check: () => Promise<unknown>;
}

interface Waiter {
  /** Ends the current sleep early (a change, leadership, or an abort). */
  poke: () => void;
}

interface Watch {
  waiters: Set<Waiter>;
  leader: Waiter | null;
  /** Bumped by every change event; a waiter that saw it move was woken by a change. */
  generation: number;
}

export const DEFAULT_MAX_WAITERS = 10_000;
export const DEFAULT_WAIT_TICK_MS = 250;

export class WaiterRegistry {
  readonly #watches = new Map<string, Watch>();
  readonly #max: number;
  readonly #tickMs: number;
  #parked = 0;

  constructor(max: number = DEFAULT_MAX_WAITERS, tickMs: number = DEFAULT_WAIT_TICK_MS) {
    this.#max = max;
    this.#tickMs = tickMs;
  }

  /** Requests parked now, over all keys. */
  get parked(): number {
    return this.#parked;
  }

  /** Keys with at least one parked request. */
  get watchedKeys(): number {
    return this.#watches.size;
  }

  /** Whether one more request may park (MAX_WAITERS per isolate). */
  hasRoom(): boolean {
    return this.#parked < this.#max;
  }

  /** Wakes every request parked on `key` (called on the store's head-change events). */
  notify(key: string): void {
    const watch = this.#watches.get(key);
    if (watch === undefined) return;
    watch.generation++;
    for (const waiter of watch.waiters) waiter.poke();
  }

  /**
   * Parks the caller until `key` changes, `waitMs` passes or the client goes away. The caller
   * checked `hasRoom()` first; a full registry still parks nobody past `max` (returns "deadline"
   * at once), so the cap holds even if two requests raced for the last slot.
   */
  async park(request: ParkRequest): Promise<ParkOutcome> {
    const { key, signal } = request;
    if (signal?.aborted) return "aborted";
    if (!this.hasRoom()) return "deadline";
    const deadline = Date.now() + request.waitMs;
    let watch = this.#watches.get(key);
    if (watch === undefined) {
      watch = { waiters: new Set(), leader: null, generation: 0 };
      this.#watches.set(key, watch);
    }
    const self: Waiter = { poke: noop };
    watch.waiters.add(self);
    watch.leader ??= self;
    this.#parked++;
    const seen = watch.generation;
    const onAbort = () => self.poke();
    signal?.addEventListener("abort", onAbort);
    try {
      for (;;) {
        if (signal?.aborted) return "aborted";
        if (watch.generation !== seen) return "changed";
        const remaining = deadline - Date.now();
        if (remaining <= 0) return "deadline";
        const leading = watch.leader === self;
        await sleep(leading ? Math.min(this.#tickMs, remaining) : remaining, self);
        if (leading && watch.leader === self && watch.generation === seen && !signal?.aborted) {
          // A failed check is no change: the waiters keep waiting, and answer at their deadline.
          await request.check().catch(noop);
        }
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
      this.#parked--;
      watch.waiters.delete(self);
      if (watch.waiters.size === 0) {
        if (this.#watches.get(key) === watch) this.#watches.delete(key);
      } else if (watch.leader === self) {
        // The next waiter takes over the periodic check on its own timer.
        const next = watch.waiters.values().next().value ?? null;
        watch.leader = next;
        next?.poke();
      }
    }
  }
}

/** Sleeps `ms` on a timer of the caller's own request, or until `waiter.poke()`. */
function sleep(ms: number, waiter: Waiter): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      waiter.poke = noop;
      resolve();
    }
    waiter.poke = done;
  });
}

function noop(): void {}
