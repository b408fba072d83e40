/**
 * The bare worker: the floor the edge is measured against. It answers `GET /v1/configs/<key>`
 * with the same bytes the edge serves (bench/lib/document.ts, size from the key's last segment:
 * `4k`, `1k`, `64k`, `1m`), a strong ETag, and `304` on a matching If-None-Match — from memory,
 * with no routing framework, no KV, no logging. Whatever the edge spends above this is fleetconf's.
 *
 * Under `/contract/v1/configs/<key>` it answers the same, but with the header fields the wire
 * contract makes the edge send (DESIGN §3: ETag, Config-Version, Last-Modified, Content-Type,
 * Content-Digest, Config-Signature, Cache-Control, Cache-Status, Vary, Server-Timing, Request-Id;
 * same names, values of the same lengths): the floor for a worker that must send them, which
 * separates what the contract's headers cost from what fleetconf's code costs.
 */
import { ifNoneMatchHits } from "../../core/conditional";
import { benchDocument, sizeOfLabel } from "../lib/document";

interface Entry {
  body: Uint8Array;
  etag: string;
}

const entries = new Map<number, Entry>();
const CONTRACT_PREFIX = "/contract";

function entryFor(size: number): Entry {
  let entry = entries.get(size);
  if (!entry) {
    entry = { body: new TextEncoder().encode(benchDocument(size)), etag: `"bare-${size}"` };
    entries.set(size, entry);
  }
  return entry;
}

// Realistic stand-ins: an ETag, digest and detached JWS as long as the edge's.
const CONTRACT_ETAG = `"1-${"e".repeat(22)}"`;
const CONTRACT_DIGEST = `sha-256=:${"d".repeat(43)}=:`;
const CONTRACT_SIGNATURE = `${"p".repeat(180)}..${"s".repeat(86)}`;

function contractHeaders(notModified: boolean): Record<string, string> {
  const headers: Record<string, string> = {
    ETag: CONTRACT_ETAG,
    "Config-Version": "1",
    "Cache-Control": "public, max-age=5, stale-while-revalidate=30, stale-if-error=86400",
    "Cache-Status": "fleetconf-edge; hit; ttl=4; detail=memory",
    Vary: "Config-Client-Id",
    "Server-Timing": 'edge;dur=0.0;desc="memory"',
    "Request-Id": crypto.randomUUID(),
  };
  if (notModified) return headers;
  headers["Last-Modified"] = "Sun, 30 Nov 2026 18:00:00 GMT";
  headers["Content-Type"] = "application/json";
  headers["Content-Digest"] = CONTRACT_DIGEST;
  headers["Config-Signature"] = CONTRACT_SIGNATURE;
  return headers;
}

export default {
  fetch(request: Request): Response {
    const url = new URL(request.url);
    if (url.pathname === "/healthz") return new Response("ok");
    const contract = url.pathname.startsWith(`${CONTRACT_PREFIX}/`);
    const path = contract ? url.pathname.slice(CONTRACT_PREFIX.length) : url.pathname;
    const label = path.slice(path.lastIndexOf("/") + 1);
    const size = path.startsWith("/v1/configs/") ? sizeOfLabel(label) : null;
    if (size === null) return new Response("not found", { status: 404 });
    const entry = entryFor(size);
    const etag = contract ? CONTRACT_ETAG : entry.etag;
    // RFC 9110 §13.1.2: a matching If-None-Match on a GET answers 304 with the validator.
    const notModified = ifNoneMatchHits(request.headers.get("If-None-Match"), etag);
    if (contract) {
      return new Response(notModified ? null : entry.body, {
        status: notModified ? 304 : 200,
        headers: contractHeaders(notModified),
      });
    }
    const headers = { ETag: etag, "Cache-Control": "public, max-age=5" };
    if (notModified) return new Response(null, { status: 304, headers });
    return new Response(entry.body, { headers: { ...headers, "Content-Type": "application/json" } });
  },
} satisfies ExportedHandler;
