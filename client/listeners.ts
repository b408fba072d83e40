/**
 * What the config client and the bundle client (client/client.ts, client/bundle-client.ts) share
 * about their listeners: `ready()` waiters, `onChange` and `onError` listeners, and the rule that
 * a listener that throws is reported (`listener_error`) without stopping the others or the poll.
 */
import { ConfigClientError } from "./errors";

type ChangeListener<S> = (snapshot: S, previous: S | undefined) => void;

/** Adds `listener` to `set`; the function returned removes it. */
export function subscribe<L>(set: Set<L>, listener: L): () => void {
  set.add(listener);
  return () => void set.delete(listener);
}

export class SnapshotListeners<S> {
  private readonly changeListeners = new Set<ChangeListener<S>>();
  private readonly errorListeners = new Set<(error: ConfigClientError) => void>();
  private readonly waiters = new Set<{ resolve: (snapshot: S) => void; reject: (error: unknown) => void }>();

  /** `ready()`: the current snapshot, or the first adopted one (rejected on close or failure). */
  ready(current: S | undefined, closed: boolean): Promise<S> {
    if (current) return Promise.resolve(current);
    if (closed) return Promise.reject(new ConfigClientError("closed", "the client is closed"));
    return new Promise((resolve, reject) => this.waiters.add({ resolve, reject }));
  }

  onChange(listener: ChangeListener<S>): () => void {
    return subscribe(this.changeListeners, listener);
  }

  onError(listener: (error: ConfigClientError) => void): () => void {
    return subscribe(this.errorListeners, listener);
  }

  /** A snapshot was adopted: settles `ready()` and tells every change listener. */
  adopted(snapshot: S, previous: S | undefined): void {
    for (const waiter of this.waiters) waiter.resolve(snapshot);
    this.waiters.clear();
    this.notify(this.changeListeners, "an onChange listener", (listener) => listener(snapshot, previous));
  }

  /**
   * Tells error listeners; `settlesReady` (a failed poll, not a cache or listener problem) also
   * rejects `ready()` while no snapshot is held.
   */
  report(error: ConfigClientError, settlesReady: boolean, holdsSnapshot: boolean): void {
    if (settlesReady && !holdsSnapshot) this.rejectWaiters(error);
    for (const listener of this.errorListeners) {
      try {
        listener(error);
      } catch {
        // An error listener that throws has nowhere left to report to.
      }
    }
  }

  /** On close: `ready()` calls still waiting are rejected with `closed`. */
  closed(message: string): void {
    this.rejectWaiters(new ConfigClientError("closed", message));
  }

  /** Calls each listener; one that throws is reported as `listener_error` and the rest still run. */
  notify<L>(listeners: Iterable<L>, what: string, call: (listener: L) => void): void {
    for (const listener of listeners) {
      try {
        call(listener);
      } catch (error) {
        this.report(
          new ConfigClientError("listener_error", `${what} threw: ${String(error)}`, { cause: error }),
          false,
          true,
        );
      }
    }
  }

  private rejectWaiters(error: ConfigClientError): void {
    for (const waiter of this.waiters) waiter.reject(error);
    this.waiters.clear();
  }
}
