/**
 * At most one upstream read per id per isolate: concurrent callers share the first caller's
 * promise. Every caller hands it to its own `ctx.waitUntil`: the request that started it stays
 * alive until it settles (so others waiting on it are never left on a cancelled context), and a
 * request that joined it is still alive when it settles (workerd cancels continuations resolved
 * from another request's context once their own request has finished).
 */
export class SingleFlight<T> {
  readonly #flights = new Map<string, Promise<T>>();

  run(id: string, ctx: ExecutionContext, start: () => Promise<T>): Promise<T> {
    const running = this.#flights.get(id);
    if (running !== undefined) {
      ctx.waitUntil(running.catch(() => undefined));
      return running;
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
}
