/// <reference types="@cloudflare/vitest-pool-workers/types" />
/**
 * Runs the edge app inside workerd against the real KV and Cache API, with the test in control
 * of the clock and of KV failures. Each `edge()` is a fresh app: a new isolate's empty memory.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { type EdgeAppOptions, newApp } from "../../worker/app";
import { timedKvReader } from "../../worker/cache/kv-reader";
import type { EdgeEnv } from "../../worker/env";
import type { FixtureEnv } from "../support/snapshot-fixture";
import { bindings } from "../support/workerd";

export const env = bindings<EdgeEnv & FixtureEnv>();

/** A clock the test moves by hand. */
export class TestClock {
  ms = Date.now();
  readonly now = (): number => this.ms;
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

/** The real KV binding, with switchable failures and a log of every read. */
export class FlakyKv {
  mode: "ok" | "fail" | "hang" = "ok";
  /** When set, reads happen at once but their results are delivered only once it resolves. */
  hold: Promise<void> | null = null;
  readonly reads: string[] = [];
  readonly #kv: KVNamespace;

  constructor(kv: KVNamespace) {
    this.#kv = kv;
  }

  get(name: string, type: "text"): Promise<string | null>;
  get(name: string, type: "arrayBuffer"): Promise<ArrayBuffer | null>;
  get(name: string, type: "text" | "arrayBuffer"): Promise<string | ArrayBuffer | null> {
    this.reads.push(name);
    if (this.mode === "fail") return Promise.reject(new Error("KV is down"));
    if (this.mode === "hang") return new Promise(() => undefined);
    const read = type === "text" ? this.#kv.get(name, "text") : this.#kv.get(name, "arrayBuffer");
    const hold = this.hold;
    if (hold === null) return read;
    return read.then(async (value) => {
      await hold;
      return value;
    });
  }

  readsOf(name: string): number {
    return this.reads.filter((read) => read === name).length;
  }
}

export interface Edge {
  clock: TestClock;
  kv: FlakyKv;
  /** Sends a request and waits for its background work (cache writes, refreshes). */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Sends a request; background work is awaited separately with `settle()`. */
  send(path: string, init?: RequestInit): Promise<{ res: Response; settle: () => Promise<void> }>;
}

export function edge(
  options: Omit<EdgeAppOptions, "now" | "kv"> & { clock?: TestClock; vars?: Partial<EdgeEnv> } = {},
): Edge {
  const clock = options.clock ?? new TestClock();
  // Fixtures write KV directly, as the origin's drain does, without the origin's Durable Object
  // knowing of them; so by default the edge reads heads from KV (HEAD_SOURCE=kv, the KV-only
  // design). Tests of the origin head path publish through the real origin and pass
  // `vars: { HEAD_SOURCE: "origin" }` (test/worker/heads.test.ts).
  const appEnv: EdgeEnv & FixtureEnv = { ...env, HEAD_SOURCE: "kv", ...options.vars };
  const kv = new FlakyKv(env.CONFIGS);
  const app = newApp({
    kvTimeoutMs: 100,
    // No request log lines: they would drown the test output (logging is covered separately).
    log: false,
    ...options,
    // fetch() waits for background work: a fleet flush timer (2 s) would hold every request
    // that sent a client id. The timer has its own test (fleet.test.ts), which turns it on.
    telemetry: { flushTimer: false, ...options.telemetry },
    now: clock.now,
    kv: (_env, timeoutMs) => timedKvReader(kv, timeoutMs),
  });
  const send = async (path: string, init?: RequestInit) => {
    const ctx = createExecutionContext();
    const res = await app.fetch(new Request(`https://edge.test${path}`, init), appEnv, ctx);
    return { res, settle: () => waitOnExecutionContext(ctx) };
  };
  return {
    clock,
    kv,
    send,
    async fetch(path, init) {
      const { res, settle } = await send(path, init);
      await settle();
      return res;
    },
  };
}

export function bearer(token: string): RequestInit {
  return { headers: { Authorization: `Bearer ${token}` } };
}
