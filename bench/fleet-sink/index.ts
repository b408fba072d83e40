/**
 * A stand-in origin for §1c's edge-only row: takes the edge's fleet batches on `/internal/fleet`
 * (reads the whole body, as the origin does) and answers 202 without storing them, so that row
 * measures what recording costs the edge's hot path, apart from the origin's SQLite writes.
 * It counts what arrived (batches, sightings, bytes) and tells on `GET /count`, so the run can
 * show that the "recording on" side really flushed batches (a sink that never hears from the
 * edge would make that side's figure meaningless).
 */
const received = { batches: 0, sightings: 0, bytes: 0, unparsable: 0 };

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (request.method === "GET" && url.pathname === "/count") return Response.json(received);
    const text = await request.text();
    received.batches++;
    received.bytes += text.length;
    try {
      const batch = JSON.parse(text) as { sightings?: unknown };
      if (Array.isArray(batch.sightings)) received.sightings += batch.sightings.length;
      else received.unparsable++;
    } catch {
      received.unparsable++;
    }
    return new Response(null, { status: 202 });
  },
} satisfies ExportedHandler;
