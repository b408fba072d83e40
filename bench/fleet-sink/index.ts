/**
 * A stand-in origin for §1c's edge-only row: takes the edge's fleet batches on `/internal/fleet`
 * (reads the whole body, as the origin does) and answers 202 without storing them, so that row
 * measures what recording costs the edge's hot path, apart from the origin's SQLite writes.
 */
export default {
  async fetch(request: Request): Promise<Response> {
    await request.arrayBuffer();
    return new Response(null, { status: 202 });
  },
} satisfies ExportedHandler;
