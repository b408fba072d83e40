/**
 * A FIFO async mutex. A Durable Object runs one event at a time only until it awaits I/O (signing,
 * KV, fetch): from then on other calls interleave, so a read-decide-write that spans an `await`
 * must hold this lock to stay serial.
 */
export class AsyncMutex {
  private tail: Promise<void> = Promise.resolve();

  async run<T>(critical: () => Promise<T>): Promise<T> {
    const previous = this.tail;
    let release = (): void => {};
    this.tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    try {
      return await critical();
    } finally {
      release();
    }
  }
}
