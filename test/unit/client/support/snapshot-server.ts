/**
 * A local edge double for SDK and agent tests: a real `node:http` server on 127.0.0.1 serving
 * snapshots built by core's `buildSnapshot` (real Ed25519 signatures, real digests), with a
 * per-test handler so a test can serve good answers, tampered ones, 304s or errors.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ConfigClientError } from "../../../../client";
import { utf8Bytes } from "../../../../core/encoding";
import {
  generateSigningJwk,
  importSigningKey,
  type Jwks,
  type PrivateJwk,
  publicPart,
} from "../../../../core/jws";
import { buildSnapshot, type Snapshot } from "../../../../core/snapshot";

export interface Signer {
  jwk: PrivateJwk;
  jwks: Jwks;
  sign(key: string, version: number, content: unknown | Uint8Array, publishedAt?: number): Promise<Snapshot>;
}

export async function newSigner(): Promise<Signer> {
  const jwk = await generateSigningJwk("snapshot");
  const signingKey = await importSigningKey(jwk);
  return {
    jwk,
    jwks: { keys: [publicPart(jwk)] },
    sign: (key, version, content, publishedAt = Date.UTC(2026, 0, 1)) =>
      buildSnapshot({
        key,
        version,
        body: content instanceof Uint8Array ? content : utf8Bytes(JSON.stringify(content)),
        publishedAt,
        signingKey,
        kid: jwk.kid,
      }),
  };
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  at: number;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface TestServer {
  url: string;
  requests: RecordedRequest[];
  handle(handler: Handler): void;
  close(): Promise<void>;
}

export async function startTestServer(
  initial: Handler = (_req, res) => {
    res.writeHead(404).end();
  },
): Promise<TestServer> {
  let handler = initial;
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? "GET", url: req.url ?? "/", headers: req.headers, at: Date.now() });
    Promise.resolve(handler(req, res)).catch((error: unknown) => {
      res.writeHead(500).end(String(error));
    });
  });
  const port = await listenInRange(server);
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    handle(next) {
      handler = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** This engineer's port range (the team splits ports so parallel test runs never collide). */
export const PORT_RANGE = { first: 18900, last: 18999 } as const;

/** Listens on the first free 127.0.0.1 port of PORT_RANGE, starting at a random offset. */
export async function listenInRange(server: Server): Promise<number> {
  const size = PORT_RANGE.last - PORT_RANGE.first + 1;
  const offset = Math.floor(Math.random() * size);
  for (let i = 0; i < size; i++) {
    const port = PORT_RANGE.first + ((offset + i) % size);
    const bound = await new Promise<boolean>((resolve) => {
      const onError = () => resolve(false);
      server.once("error", onError);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", onError);
        resolve(true);
      });
    });
    if (bound) return (server.address() as AddressInfo).port;
  }
  throw new Error(`no free port in ${PORT_RANGE.first}-${PORT_RANGE.last}`);
}

/**
 * Serves `handle` on a free 127.0.0.1 port of PORT_RANGE (the proxies in front of an edge): a
 * handler that throws is answered 599, or its response is cut if it had begun.
 */
export async function serveOnLoopback(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(599).end(String(error));
      else res.destroy();
    });
  });
  const port = await listenInRange(server);
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface ServeOptions {
  cacheControl?: string;
  /** Replace the body after signing (tampering). */
  body?: Uint8Array;
  headers?: Record<string, string>;
  omit?: string[];
}

/** Answers like the edge (DESIGN §3): the snapshot with its headers, or 304 when the ETag matches. */
export function serveSnapshot(snapshot: Snapshot, options: ServeOptions = {}): Handler {
  return (req, res) => {
    const headers: Record<string, string> = {
      "Content-Type": "application/json",
      ETag: snapshot.meta.etag,
      "Config-Version": String(snapshot.meta.version),
      "Content-Digest": snapshot.meta.digest,
      "Config-Signature": snapshot.meta.signature,
      "Cache-Control": options.cacheControl ?? "private, max-age=0",
      ...options.headers,
    };
    for (const name of options.omit ?? []) delete headers[name];
    if (req.headers["if-none-match"] === snapshot.meta.etag) {
      const applied = headers["Preference-Applied"];
      // The edge sends Config-Freshness on 304s too (DESIGN §8).
      const proof = headers["Config-Freshness"];
      res
        .writeHead(304, {
          ETag: snapshot.meta.etag,
          "Cache-Control": headers["Cache-Control"] ?? "",
          ...(applied === undefined ? {} : { "Preference-Applied": applied }),
          ...(proof === undefined ? {} : { "Config-Freshness": proof }),
        })
        .end();
      return;
    }
    res.writeHead(200, headers).end(options.body ?? snapshot.body);
  };
}

export function problem(status: number, detail: string, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res
      .writeHead(status, { "Content-Type": "application/problem+json", ...headers })
      .end(JSON.stringify({ type: "about:blank", title: "Problem", status, detail }));
  };
}

export function flipByte(bytes: Uint8Array, index = 0): Uint8Array {
  const copy = new Uint8Array(bytes);
  copy[index] = (copy[index] ?? 0) ^ 0x01;
  return copy;
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<ConfigClientError> {
  try {
    await promise;
  } catch (error) {
    return error as ConfigClientError;
  }
  throw new Error("expected a rejection");
}

export async function waitFor(condition: () => boolean, timeoutMs = 5000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** `Prefer: wait=<s>` (RFC 7240) as the edge reads it, or null. */
function preferredWait(req: IncomingMessage): number | null {
  const match = /(?:^|,)\s*wait\s*=\s*([0-9]{1,5})\s*(?:,|$)/i.exec(String(req.headers.prefer ?? ""));
  return match?.[1] ? Math.min(Number(match[1]), 60) : null;
}

export interface LongPollEdge {
  handler: Handler;
  /** Makes `snapshot` current and answers every parked request with it at once. */
  publish(snapshot: Snapshot): void;
  /** Requests held right now. */
  parked(): number;
  /** Held requests whose client went away before the answer (e.g. on `close()`). */
  abandoned: number;
}

/**
 * The edge's long-poll as DESIGN §8 specifies it: a conditional GET with `Prefer: wait=<s>` whose
 * tag still matches is held until `publish` (→ 200 with the new version) or the wait ends (→ 304),
 * and either answer says `Preference-Applied: wait=<s>`. Anything else is `serveSnapshot`'s answer.
 * `options` (e.g. a tampered `body`) apply to every 200 of a published snapshot, held or not.
 */
export function longPollEdge(initial: Snapshot, options: ServeOptions = {}): LongPollEdge {
  let current = initial;
  const parked = new Set<(next: Snapshot | null) => void>();
  const edge: LongPollEdge = {
    abandoned: 0,
    parked: () => parked.size,
    publish(snapshot) {
      current = snapshot;
      for (const wake of [...parked]) wake(snapshot);
    },
    handler(req, res) {
      const wait = preferredWait(req);
      if (wait === null || req.headers["if-none-match"] !== current.meta.etag) {
        return serveSnapshot(current, current === initial ? {} : options)(req, res);
      }
      const applied = { "Preference-Applied": `wait=${wait}` };
      const wake = (next: Snapshot | null) => {
        parked.delete(wake);
        clearTimeout(timer);
        if (next === null) {
          serveSnapshot(current, { headers: applied })(req, res);
          return;
        }
        serveSnapshot(next, { ...options, headers: { ...applied, ...options.headers } })(req, res);
      };
      const timer = setTimeout(() => wake(null), wait * 1000);
      parked.add(wake);
      res.on("close", () => {
        if (!parked.has(wake)) return;
        parked.delete(wake);
        clearTimeout(timer);
        edge.abandoned++;
      });
    },
  };
  return edge;
}
