/**
 * At most one upstream read per id per isolate: concurrent callers share the first caller's
 * promise. Every caller hands it to its own `ctx.waitUntil`: the request that started it stays
 * alive until it settles (so others waiting on it are never left on a cancelled context), and a
 * request that joined it is still alive when it settles (workerd cancels continuations resolved
 * from another request's context once their own request has finished).
 *
 * A caller that joins also arms a timer of its own while it waits. workerd declares a request
 * hung — and cancels it with a 500 — when nothing it is waiting for belongs to its own context,
 * and a promise settled by another request's I/O does not count (BENCHMARKS.md, finding on the
 * Cache API tier under load). The timer is such an event; if it fires first, the caller stops
 * waiting and reads for itself, so a stalled flight also costs a joiner at most `joinTimeoutMs`.
 */
export const DEFAULT_JOIN_TIMEOUT_MS = 2500;

export class SingleFlight<T> {
  readonly #flights = new Map<string, Promise<T>>();

  constructor(readonly joinTimeoutMs: number = DEFAULT_JOIN_TIMEOUT_MS) {}

  run(id: string, ctx: ExecutionContext, start: () => Promise<T>): Promise<T> {
    const running = this.#flights.get(id);
    if (running !== undefined) {
      ctx.waitUntil(running.catch(() => undefined));
      return this.#join(running, start);
    }
    const flight = start().finally(() => {
      // A purge may have dropped this flight and another may have started since.
      if (this.#flights.get(id) === flight) this.#flights.delete(id);
    });
    this.#flights.set(id, flight);
    ctx.waitUntil(flight.catch(() => undefined));
    return flight;
  }

  /** Forgets a flight so the next caller starts a new read (its current waiters keep theirs). */
  forget(id: string): void {
    this.#flights.delete(id);
  }

  get size(): number {
    return this.#flights.size;
  }

  #join(running: Promise<T>, start: () => Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ownTurn = new Promise<typeof OWN_READ>((resolve) => {
      timer = setTimeout(() => resolve(OWN_READ), this.joinTimeoutMs);
    });
    return Promise.race([running, ownTurn])
      .then((result) => (result === OWN_READ ? start() : result))
      .finally(() => clearTimeout(timer));
  }
}

const OWN_READ = Symbol("own read");
