/**
 * The bare worker: the floor the edge is measured against. It answers `GET /v1/configs/<key>`
 * with the same bytes the edge serves (bench/lib/document.ts, size from the key's last segment:
 * `4k`, `1k`, `64k`, `1m`), a strong ETag, and `304` on a matching If-None-Match — from memory,
 * with no routing framework, no KV, no logging. Whatever the edge spends above this is fleetconf's.
 */
import { ifNoneMatchHits } from "../../core/conditional";
import { benchDocument, sizeOfLabel } from "../lib/document";

interface Entry {
  body: Uint8Array;
  etag: string;
}

const entries = new Map<number, Entry>();

function entryFor(size: number): Entry {
  let entry = entries.get(size);
  if (!entry) {
    entry = { body: new TextEncoder().encode(benchDocument(size)), etag: `"bare-${size}"` };
    entries.set(size, entry);
  }
  return entry;
}

export default {
  fetch(request: Request): Response {
    const url = new URL(request.url);
    if (url.pathname === "/healthz") return new Response("ok");
    const label = url.pathname.slice(url.pathname.lastIndexOf("/") + 1);
    const size = url.pathname.startsWith("/v1/configs/") ? sizeOfLabel(label) : null;
    if (size === null) return new Response("not found", { status: 404 });
    const entry = entryFor(size);
    const headers = { ETag: entry.etag, "Cache-Control": "public, max-age=5" };
    // RFC 9110 §13.1.2: a matching If-None-Match on a GET answers 304 with the validator.
    if (ifNoneMatchHits(request.headers.get("If-None-Match"), entry.etag)) {
      return new Response(null, { status: 304, headers });
    }
    return new Response(entry.body, { headers: { ...headers, "Content-Type": "application/json" } });
  },
} satisfies ExportedHandler;
