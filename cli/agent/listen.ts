/**
 * The agent's localhost API (DESIGN §8 "Agent", as AWS AppConfig Agent serves :2772): `GET|HEAD
 * /v1/configs/{key}` for the keys the agent follows, answered from its verified state with the
 * edge's headers (ETag, Config-Version, Content-Digest, Config-Signature, Last-Modified), `304`
 * for a matching If-None-Match (RFC 9110 §13.1.2) and long-poll with `Prefer: wait` (RFC 7240):
 * a conditional GET whose tag still matches is held until the agent accepts a new version or
 * the wait ends. So any language reads config with one local HTTP request, and only bytes the
 * SDK verified are ever served. Binds loopback addresses only.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ConfigSnapshot } from "../../client";
import { ifNoneMatchHits } from "../../core/conditional";
import { preferredWait } from "../../core/prefer";

/** Requests held at once; past it a long-poll is answered 503 + Retry-After, as the edge does. */
export const MAX_LOCAL_WAITERS = 1000;
const PREFIX = "/v1/configs/";

export interface LocalApi {
  /** The bound address, e.g. `127.0.0.1:2772`. */
  address: string;
  /** Hands over a newly accepted snapshot; wakes the requests held for its key. */
  update(snapshot: ConfigSnapshot<unknown>): void;
  close(): Promise<void>;
}

/** `127.0.0.1:<port>` (or `[::1]:<port>`, `localhost:<port>`): a loopback address, or an error message. */
export function parseListen(raw: string): { host: string; port: number } | string {
  const match = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\]):(\d{1,5})$/.exec(raw);
  if (!match)
    return `--listen ${JSON.stringify(raw)} must be a loopback address and port, e.g. 127.0.0.1:2772`;
  const port = Number(match[2]);
  if (port > 65535) return `--listen port ${port} is above 65535`;
  const host = match[1] === "[::1]" ? "::1" : (match[1] ?? "127.0.0.1");
  return { host, port };
}

function problem(
  res: ServerResponse,
  status: number,
  detail: string,
  headers: Record<string, string> = {},
): void {
  res
    .writeHead(status, {
      "Content-Type": "application/problem+json",
      "Cache-Control": "no-store",
      ...headers,
    })
    .end(JSON.stringify({ type: "about:blank", title: detail, status, detail }));
}

export async function startLocalApi(
  listen: { host: string; port: number },
  keys: readonly string[],
): Promise<LocalApi> {
  const followed = new Set(keys);
  const current = new Map<string, ConfigSnapshot<unknown>>();
  const waiting = new Map<string, Set<() => void>>();
  let held = 0;

  function answer(
    req: IncomingMessage,
    res: ServerResponse,
    snapshot: ConfigSnapshot<unknown>,
    applied: string | null,
  ): void {
    const headers: Record<string, string> = {
      ETag: snapshot.etag,
      "Config-Version": String(snapshot.version),
      // Local state is current by definition; a client revalidates each read (cheap 304s).
      "Cache-Control": "no-cache",
      ...(applied ? { "Preference-Applied": applied } : {}),
    };
    if (ifNoneMatchHits(req.headers["if-none-match"], snapshot.etag)) {
      res.writeHead(304, headers).end();
      return;
    }
    res
      .writeHead(200, {
        ...headers,
        "Content-Type": "application/json",
        "Content-Length": String(snapshot.bytes.length),
        "Content-Digest": snapshot.digest,
        "Config-Signature": snapshot.signature,
        "Last-Modified": new Date(snapshot.publishedAt).toUTCString(),
      })
      .end(req.method === "HEAD" ? undefined : snapshot.bytes);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (!path.startsWith(PREFIX)) return problem(res, 404, "The agent serves /v1/configs/{key} only.");
    const key = path.slice(PREFIX.length);
    if (!followed.has(key)) return problem(res, 404, `This agent does not follow ${key}.`);
    if (req.method !== "GET" && req.method !== "HEAD") {
      return problem(res, 405, "Configs are read with GET or HEAD.", { Allow: "GET, HEAD" });
    }
    const first = current.get(key);
    if (!first) return problem(res, 503, `No verified version of ${key} yet.`, { "Retry-After": "1" });
    const prefer = req.headers.prefer;
    const wait = req.method === "GET" && typeof prefer === "string" ? preferredWait(prefer) : null;
    if (wait === null || !ifNoneMatchHits(req.headers["if-none-match"], first.etag))
      return answer(req, res, first, null);
    if (held >= MAX_LOCAL_WAITERS) {
      return problem(res, 503, "Too many requests are held here; retry shortly.", { "Retry-After": "1" });
    }
    held++;
    const listeners = waiting.get(key) ?? new Set<() => void>();
    waiting.set(key, listeners);
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        listeners.delete(done);
        res.off("close", done);
        resolve();
      };
      const timer = setTimeout(done, wait * 1000);
      listeners.add(done);
      res.once("close", done);
    });
    held--;
    if (res.destroyed) return;
    answer(req, res, current.get(key) ?? first, `wait=${wait}`);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => problem(res, 500, String(error)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return {
    address: `${bound.family === "IPv6" ? `[${bound.address}]` : bound.address}:${bound.port}`,
    update(snapshot) {
      current.set(snapshot.key, snapshot);
      for (const wake of [...(waiting.get(snapshot.key) ?? [])]) wake();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const listeners of waiting.values()) for (const wake of [...listeners]) wake();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
