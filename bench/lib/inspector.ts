/**
 * Reads a worker isolate's V8 heap through the DevTools protocol on workerd's inspector port
 * (`wrangler dev --inspector-port`, Miniflare `inspectorPort`): a heap snapshot (which collects
 * garbage) then `Runtime.getHeapUsage`. Needs a global WebSocket (Node 20: `--experimental-websocket`,
 * which scripts/bench.mjs passes).
 */

interface Target {
  id: string;
  title?: string;
  description?: string;
  url?: string;
  webSocketDebuggerUrl: string;
}

export interface HeapUsage {
  /** Live JS heap. */
  usedBytes: number;
  totalBytes: number;
  /** ArrayBuffer backing stores (outside the JS heap). */
  backingStoreBytes: number;
}

export async function listTargets(inspectorPort: number): Promise<Target[]> {
  const res = await fetch(`http://127.0.0.1:${inspectorPort}/json`, { signal: AbortSignal.timeout(5000) });
  return (await res.json()) as Target[];
}

export class InspectorSession {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(private readonly socket: WebSocket) {
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(String(event.data)) as {
        id?: number;
        result?: unknown;
        error?: { message: string };
      };
      if (message.id === undefined) return;
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (message.error) waiter.reject(new Error(message.error.message));
      else waiter.resolve(message.result);
    });
  }

  static async connect(url: string): Promise<InspectorSession> {
    if (typeof WebSocket === "undefined")
      throw new Error("no global WebSocket: run node with --experimental-websocket");
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener("open", () => resolve(), { once: true });
      socket.addEventListener("error", () => reject(new Error(`cannot connect to ${url}`)), { once: true });
    });
    return new InspectorSession(socket);
  }

  send<T>(method: string, params: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<T> {
    const id = this.nextId++;
    this.socket.send(JSON.stringify({ id, method, params }));
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method} timed out`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  /**
   * Heap after a full GC. workerd never answers `HeapProfiler.collectGarbage`, but a heap
   * snapshot collects garbage first, so one is taken (its chunks are ignored). ArrayBuffer
   * contents (config bodies) live outside the JS heap and are reported as `backingStorageSize`.
   */
  async heapUsage(): Promise<HeapUsage> {
    await this.send("HeapProfiler.enable");
    await this.send("HeapProfiler.takeHeapSnapshot", { reportProgress: false }, 120_000);
    await this.send("HeapProfiler.disable").catch(() => undefined);
    const usage = await this.send<{ usedSize: number; totalSize: number; backingStorageSize?: number }>(
      "Runtime.getHeapUsage",
    );
    return {
      usedBytes: usage.usedSize,
      totalBytes: usage.totalSize,
      backingStoreBytes: usage.backingStorageSize ?? 0,
    };
  }

  close(): void {
    this.socket.close();
  }
}
