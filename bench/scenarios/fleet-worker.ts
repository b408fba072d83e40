/**
 * One fleet process: `count` real SDK clients (client/ `createConfigClient`) polling one key over
 * real HTTP, driven by the parent (scenarios/fleet.ts) through IPC. It counts what the clients
 * move (requests, 200s, 304s, bytes) and when each client adopts an expected version.
 */

import type { ConfigClient } from "../../client";
import { createConfigClient } from "../../client";
import type { Jwks } from "../../core/jws";

export type ToWorker =
  | {
      type: "start";
      edge: string;
      key: string;
      jwks: Jwks;
      count: number;
      intervalMs: number;
      id: string;
      /** Long-poll (the SDK's `longPoll`, default on once the SDK has it) or plain interval polling. */
      longPoll: boolean;
      waitSeconds: number;
    }
  | { type: "mark" }
  | { type: "counters" }
  | { type: "expect"; version: number; waitMs: number }
  | { type: "stop" };

export interface Counters {
  requests: number;
  ok: number;
  notModified: number;
  other: number;
  errors: number;
  bodyBytes: number;
  headerBytes: number;
  /** Sum of request → response-headers times, for the mean round trip the clients saw. */
  latencyMs: number;
  sinceMs: number;
  /** What failed, by answer status (`503`) or error message: the failed polls explained. */
  failures: Record<string, number>;
  /** Requests that sent `Prefer: wait`, and answers that said `Preference-Applied` (held by the edge). */
  preferSent: number;
  honoured: number;
}

export type FromWorker =
  | { type: "ready"; clients: number }
  | { type: "marked" }
  | { type: "counters"; counters: Counters }
  | { type: "converged"; times: Array<number | null> };

const send = (message: FromWorker) => process.send?.(message);
const clients: Array<ConfigClient<unknown>> = [];
let counters: Counters = fresh();

function fresh(): Counters {
  return {
    requests: 0,
    ok: 0,
    notModified: 0,
    other: 0,
    errors: 0,
    bodyBytes: 0,
    headerBytes: 0,
    latencyMs: 0,
    sinceMs: Date.now(),
    failures: {},
    preferSent: 0,
    honoured: 0,
  };
}

const countingFetch: typeof fetch = async (input, init) => {
  const started = performance.now();
  if (new Headers(init?.headers).has("Prefer")) counters.preferSent++;
  try {
    const res = await fetch(input, init);
    if (res.headers.get("Preference-Applied")?.includes("wait")) counters.honoured++;
    counters.latencyMs += performance.now() - started;
    counters.requests++;
    if (res.status === 200) counters.ok++;
    else if (res.status === 304) counters.notModified++;
    else {
      counters.other++;
      fail(`status ${res.status}`);
    }
    counters.bodyBytes += Number(res.headers.get("Content-Length") ?? 0);
    // Status line + each header line ("name: value\r\n"), as they crossed the wire in HTTP/1.1.
    let headerBytes = 17;
    for (const [name, value] of res.headers) headerBytes += name.length + value.length + 4;
    counters.headerBytes += headerBytes;
    return res;
  } catch (error) {
    counters.errors++;
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
    fail(`${error instanceof Error ? error.name : "error"}${cause}`.slice(0, 120));
    throw error;
  }
};

function fail(kind: string): void {
  counters.failures[kind] = (counters.failures[kind] ?? 0) + 1;
}

function start(message: Extract<ToWorker, { type: "start" }>): void {
  for (let i = 0; i < message.count; i++) {
    // Clients start spread over one interval, as a fleet that was not restarted all at once.
    const delay = Math.floor((i / message.count) * message.intervalMs);
    setTimeout(() => {
      // A variable, not a literal: `longPoll`/`waitSeconds` are the SDK's long-poll options (DESIGN
      // §8); an SDK without them ignores them and polls, which the counters then show (no Prefer sent).
      const options = {
        edge: message.edge,
        key: message.key,
        jwks: message.jwks,
        intervalMs: message.intervalMs,
        clientId: `${message.id}-${i}`,
        fetch: countingFetch,
        requestTimeoutMs: 10_000,
        longPoll: message.longPoll,
        waitSeconds: message.waitSeconds,
      };
      clients.push(createConfigClient(options));
    }, delay);
  }
  const started = Date.now();
  const check = setInterval(() => {
    const ready = clients.length === message.count && clients.every((c) => c.current() !== undefined);
    if (ready || Date.now() - started > 120_000) {
      clearInterval(check);
      send({ type: "ready", clients: clients.filter((c) => c.current() !== undefined).length });
    }
  }, 100);
}

function expect(version: number, waitMs: number): void {
  const times: Array<number | null> = clients.map((c) =>
    (c.current()?.version ?? 0) >= version ? Date.now() : null,
  );
  const unsubscribe = clients.map((client, i) =>
    client.onChange((snapshot) => {
      if (snapshot.version >= version && times[i] === null) times[i] = Date.now();
    }),
  );
  const started = Date.now();
  const check = setInterval(() => {
    if (times.every((t) => t !== null) || Date.now() - started > waitMs) {
      clearInterval(check);
      for (const off of unsubscribe) off();
      send({ type: "converged", times });
    }
  }, 20);
}

process.on("message", (message: ToWorker) => {
  switch (message.type) {
    case "start":
      start(message);
      break;
    case "mark":
      counters = fresh();
      send({ type: "marked" });
      break;
    case "counters":
      send({ type: "counters", counters });
      break;
    case "expect":
      expect(message.version, message.waitMs);
      break;
    case "stop":
      void Promise.all(clients.map((c) => c.close())).then(() => process.exit(0));
      break;
  }
});
