/**
 * A misbehaving network between clients and the real edge, for e2e tests: a `node:http` proxy on
 * 127.0.0.1 that forwards to the edge and, on demand, flips one byte of config bodies, replays an
 * older version it saw, answers 502, or drops connections. A mode change applies at once, also to
 * requests the edge is holding (long-poll, DESIGN §8): the proxy drops their upstream request and
 * handles them again under the new mode, as an attacker on the path could answer them any time.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { serveOnLoopback } from "./snapshot-server";

export type ProxyMode =
  | { kind: "pass" }
  | { kind: "flip" }
  | { kind: "replay"; version: number }
  | { kind: "status"; status: number }
  | { kind: "drop" };

interface Recorded {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface EdgeProxy {
  url: string;
  /** Setting it re-handles every request still waiting for the edge. */
  mode: ProxyMode;
  /** Config responses (200) seen, by Config-Version, for replays. */
  seen: Map<number, Recorded>;
  /** Requests for config paths, by outcome, to assert the client kept polling. */
  counts: { forwarded: number; tampered: number; refused: number };
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "host"]);

class ModeChanged extends Error {}

export async function startEdgeProxy(edgeUrl: string): Promise<EdgeProxy> {
  let mode: ProxyMode = { kind: "pass" };
  /** Upstream requests in flight; a mode change aborts them so their requests are re-handled. */
  const waiting = new Set<AbortController>();
  const proxy: EdgeProxy = {
    url: "",
    get mode() {
      return mode;
    },
    set mode(next) {
      mode = next;
      for (const controller of waiting) controller.abort(new ModeChanged());
    },
    seen: new Map(),
    counts: { forwarded: 0, tampered: 0, refused: 0 },
    close: async () => undefined,
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A client that goes away (e.g. an SDK's close() during a long-poll) frees the edge's slot too.
    const gone = new AbortController();
    res.once("close", () => gone.abort());
    for (;;) {
      const controller = new AbortController();
      waiting.add(controller);
      try {
        await handleOnce(req, res, AbortSignal.any([controller.signal, gone.signal]));
        return;
      } catch (error) {
        if (!(controller.signal.reason instanceof ModeChanged)) throw error;
      } finally {
        waiting.delete(controller);
      }
    }
  }

  async function handleOnce(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const isConfig = (req.url ?? "").startsWith("/v1/configs/");
    const mode = proxy.mode;
    if (isConfig && mode.kind === "drop") {
      proxy.counts.refused++;
      req.socket.destroy();
      return;
    }
    if (isConfig && mode.kind === "status") {
      proxy.counts.refused++;
      res.writeHead(mode.status, { "Content-Type": "text/plain" }).end("proxy says no");
      return;
    }
    if (isConfig && mode.kind === "replay") {
      const old = proxy.seen.get(mode.version);
      if (!old) throw new Error(`the proxy never saw version ${mode.version}`);
      proxy.counts.tampered++;
      res.writeHead(old.status, old.headers).end(old.body);
      return;
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === "string" && !HOP_BY_HOP.has(name)) headers[name] = value;
    }
    const upstream = await fetch(`${edgeUrl}${req.url ?? "/"}`, {
      method: req.method ?? "GET",
      headers,
      signal,
    });
    const body = Buffer.from(await upstream.arrayBuffer());
    const outHeaders: Record<string, string> = {};
    upstream.headers.forEach((value, name) => {
      if (!HOP_BY_HOP.has(name) && name !== "content-encoding") outHeaders[name] = value;
    });
    if (isConfig) proxy.counts.forwarded++;
    const version = Number(upstream.headers.get("config-version"));
    if (isConfig && upstream.status === 200 && Number.isSafeInteger(version)) {
      proxy.seen.set(version, { status: 200, headers: outHeaders, body: Buffer.from(body) });
    }
    if (isConfig && mode.kind === "flip" && upstream.status === 200 && body.length > 0) {
      body[Math.floor(body.length / 2)] = (body[Math.floor(body.length / 2)] ?? 0) ^ 0x01;
      proxy.counts.tampered++;
    }
    res.writeHead(upstream.status, outHeaders).end(body);
  }

  const served = await serveOnLoopback(handle);
  proxy.url = served.url;
  proxy.close = served.close;
  return proxy;
}
