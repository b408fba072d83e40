/**
 * What the cost-breakdown variants share: the bare worker's answer (same bytes, strong ETag,
 * 304 on If-None-Match), so each variant adds exactly one layer of the edge on top of it.
 */
import { ifNoneMatchHits } from "../../core/conditional";
import { benchDocument, sizeOfLabel } from "../lib/document";

const bodies = new Map<number, { body: Uint8Array; etag: string }>();

export function bareAnswer(request: Request): Response {
  const url = new URL(request.url);
  const size = sizeOfLabel(url.pathname.slice(url.pathname.lastIndexOf("/") + 1));
  if (size === null) return new Response("not found", { status: 404 });
  let entry = bodies.get(size);
  if (!entry) {
    entry = { body: new TextEncoder().encode(benchDocument(size)), etag: `"bare-${size}"` };
    bodies.set(size, entry);
  }
  const headers = { ETag: entry.etag, "Cache-Control": "public, max-age=5" };
  if (ifNoneMatchHits(request.headers.get("If-None-Match"), entry.etag)) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(entry.body, { headers: { ...headers, "Content-Type": "application/json" } });
}
