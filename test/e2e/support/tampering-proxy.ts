/**
 * An attacker on the path, for the trust e2e tests (issue 14): a `node:http` proxy on 127.0.0.1
 * between a real SDK or agent and the real edge of the e2e stack. Every request goes to the edge
 * first (so the proxy holds real, validly signed answers it may replay), then `tamper` decides
 * what the client gets: the edge's answer, a changed one, or something of its own.
 *
 * Config-Freshness: until the edge sends it (issue 14's server side), the proxy adds one signed
 * with the stack's own snapshot key to honest answers that lack it, exactly as DESIGN §8 says the
 * edge will (`{key, ver, digest, iat, exp}` by a snapshot key of the JWKS), so the clients'
 * freshness rules are tested against real answers. A header the edge sent is passed as it is.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { signFreshness } from "../../../core/freshness";
import { importSigningKey, type PrivateJwk } from "../../../core/jws";
import { serveOnLoopback } from "../../unit/client/support/snapshot-server";

export interface Upstream {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** What the client is sent: an answer, or a stream written by the tamperer itself. */
export type Tampered = Upstream | { stream: (res: ServerResponse) => Promise<void> };

export type Tamper = (path: string, upstream: Upstream, req: IncomingMessage) => Tampered | Promise<Tampered>;

export interface TamperingProxy {
  url: string;
  tamper: Tamper;
  /** Honest 200 config answers seen, by `${key}@${version}` (with the freshness they carried). */
  seen: Map<string, Upstream>;
  /** Requests by path prefix, to assert a client kept asking (or fetched a key document). */
  requests: string[];
  /** Config answers that came with the edge's own Config-Freshness / that the proxy added one to. */
  proofs: { fromEdge: number; added: number };
  /** Signs the freshness proofs it adds with another snapshot key (as the origin would after a
   *  key rotation). */
  signFreshnessWith(key: PrivateJwk): Promise<void>;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "host"]);
export const honest: Tamper = (_path, upstream) => upstream;

export async function startTamperingProxy(
  edgeUrl: string,
  snapshotKey: PrivateJwk,
  freshnessTtlSeconds = 300,
): Promise<TamperingProxy> {
  let signer = { kid: snapshotKey.kid, key: await importSigningKey(snapshotKey) };
  const proxy: TamperingProxy = {
    url: "",
    tamper: honest,
    seen: new Map(),
    requests: [],
    proofs: { fromEdge: 0, added: 0 },
    async signFreshnessWith(jwk) {
      signer = { kid: jwk.kid, key: await importSigningKey(jwk) };
    },
    close: async () => undefined,
  };

  async function withFreshness(path: string, upstream: Upstream): Promise<Upstream> {
    const key = /^\/v1\/configs\/([^?]+)/.exec(path)?.[1];
    const version = Number(upstream.headers["config-version"]);
    if (upstream.headers["config-freshness"]) {
      proxy.proofs.fromEdge++;
      return upstream;
    }
    if (!key || !Number.isSafeInteger(version)) return upstream;
    if (upstream.status !== 200 && upstream.status !== 304) return upstream;
    // A 304 has no Content-Digest: the proof names the version the edge confirmed, whose digest
    // the proxy learnt from that version's 200.
    const digest =
      upstream.headers["content-digest"] ?? proxy.seen.get(`${key}@${version}`)?.headers["content-digest"];
    if (!digest) return upstream;
    const iat = Math.floor(Date.now() / 1000);
    const proof = await signFreshness(signer.key, signer.kid, {
      key,
      ver: version,
      digest,
      iat,
      exp: iat + freshnessTtlSeconds,
    });
    proxy.proofs.added++;
    return { ...upstream, headers: { ...upstream.headers, "config-freshness": proof } };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? "/";
    proxy.requests.push(path);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === "string" && !HOP_BY_HOP.has(name)) headers[name] = value;
    }
    // The attacker does not need long-polls held; answering at once keeps each test short.
    delete headers.prefer;
    const gone = new AbortController();
    res.once("close", () => gone.abort());
    const answer = await fetch(`${edgeUrl}${path}`, {
      method: req.method ?? "GET",
      headers,
      signal: gone.signal,
    });
    const out: Record<string, string> = {};
    answer.headers.forEach((value, name) => {
      if (!HOP_BY_HOP.has(name) && name !== "content-encoding") out[name] = value;
    });
    let upstream: Upstream = {
      status: answer.status,
      headers: out,
      body: Buffer.from(await answer.arrayBuffer()),
    };
    const key = /^\/v1\/configs\/([^?]+)/.exec(path)?.[1];
    if (key && upstream.status === 200 && upstream.headers["config-version"]) {
      upstream = await withFreshness(path, upstream);
      proxy.seen.set(`${key}@${upstream.headers["config-version"]}`, upstream);
    } else if (key) {
      upstream = await withFreshness(path, upstream);
    }
    const sent = await proxy.tamper(path, upstream, req);
    if ("stream" in sent) {
      await sent.stream(res);
      return;
    }
    res.writeHead(sent.status, sent.headers).end(sent.body);
  }

  const served = await serveOnLoopback(handle);
  proxy.url = served.url;
  proxy.close = served.close;
  return proxy;
}

/** Writes 1 MiB chunks until the client goes away or `maxBytes` (bounded: this is a test). */
export function endless(headers: Record<string, string>, maxBytes = 64 * 1024 * 1024) {
  return {
    stream: async (res: ServerResponse) => {
      res.writeHead(200, headers);
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      let sent = 0;
      while (sent < maxBytes && !res.destroyed) {
        const ok = res.write(chunk);
        sent += chunk.length;
        if (!ok) {
          await new Promise<void>((resolve) => {
            const done = () => {
              res.off("drain", done).off("close", done);
              resolve();
            };
            res.on("drain", done).on("close", done);
          });
        }
      }
      res.end();
    },
  };
}
