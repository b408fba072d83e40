/**
 * The per-isolate waiter registry behind long-poll (worker/longpoll/waiters.ts), on Node's real
 * timers: one periodic check per key however many wait, leadership passing on when the leader
 * leaves, change events waking everyone, aborts freeing slots at once, and the cap.
 */
import { describe, expect, it } from "vitest";
import { WaiterRegistry } from "../../../worker/longpoll/waiters";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("WaiterRegistry", () => {
  it("runs one check per tick for all waiters on a key", async () => {
    const registry = new WaiterRegistry(100, 20);
    let checks = 0;
    const check = async () => {
      checks++;
    };
    const parked = Array.from({ length: 50 }, () =>
      registry.park({ key: "a/b", waitMs: 210, signal: undefined, check }),
    );
    expect(registry.parked).toBe(50);
    expect(await Promise.all(parked)).toEqual(Array(50).fill("deadline"));
    // ≈ 210 / 20 ticks for the key, not 50 × that.
    expect(checks).toBeGreaterThanOrEqual(5);
    expect(checks).toBeLessThanOrEqual(12);
    expect(registry.parked).toBe(0);
    expect(registry.watchedKeys).toBe(0);
  });

  it("hands the periodic check to another waiter when the leader leaves", async () => {
    const registry = new WaiterRegistry(100, 20);
    let checks = 0;
    const check = async () => {
      checks++;
    };
    const leader = new AbortController();
    const first = registry.park({ key: "a/b", waitMs: 5000, signal: leader.signal, check });
    const second = registry.park({ key: "a/b", waitMs: 300, signal: undefined, check });
    await sleep(50);
    leader.abort();
    expect(await first).toBe("aborted");
    expect(registry.parked).toBe(1);
    const before = checks;
    await sleep(120);
    expect(checks).toBeGreaterThan(before + 2);
    expect(await second).toBe("deadline");
  });

  it("wakes every waiter of a key on a change, and only that key's", async () => {
    const registry = new WaiterRegistry(100, 1000);
    const check = async () => undefined;
    const a = [1, 2, 3].map(() => registry.park({ key: "a/b", waitMs: 5000, signal: undefined, check }));
    const other = registry.park({ key: "c/d", waitMs: 100, signal: undefined, check });
    await sleep(10);
    const started = Date.now();
    registry.notify("a/b");
    expect(await Promise.all(a)).toEqual(["changed", "changed", "changed"]);
    expect(Date.now() - started).toBeLessThan(50);
    expect(await other).toBe("deadline");
  });

  it("frees an aborted waiter's slot at once and refuses to park past its cap", async () => {
    const registry = new WaiterRegistry(1, 1000);
    const check = async () => undefined;
    const client = new AbortController();
    const held = registry.park({ key: "a/b", waitMs: 5000, signal: client.signal, check });
    expect(registry.hasRoom()).toBe(false);
    expect(await registry.park({ key: "a/b", waitMs: 5000, signal: undefined, check })).toBe("deadline");
    client.abort();
    expect(await held).toBe("aborted");
    expect(registry.hasRoom()).toBe(true);
    const already = new AbortController();
    already.abort();
    expect(await registry.park({ key: "a/b", waitMs: 5000, signal: already.signal, check })).toBe("aborted");
  });

  it("keeps waiting when the periodic check fails", async () => {
    const registry = new WaiterRegistry(10, 10);
    let calls = 0;
    const check = async () => {
      calls++;
      throw new Error("upstream down");
    };
    expect(await registry.park({ key: "a/b", waitMs: 80, signal: undefined, check })).toBe("deadline");
    expect(calls).toBeGreaterThan(2);
  });
});
