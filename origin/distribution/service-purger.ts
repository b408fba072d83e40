/**
 * Purges through the edge's `POST /internal/purge` route over the EDGE service binding (contract:
 * docs/kv-layout.md, "Purge"). The secret travels in `Fleetconf-Purge-Secret`; anything but a 2xx
 * is a failure, including the 404 of an edge without the route.
 */
import { INTERNAL_SECRET_HEADER } from "../../core";
import type { PurgeRequest, Purger } from "./purger";
import { PurgeError } from "./purger";

/** The host is never resolved: a service binding delivers to the bound worker whatever the URL. */
export const EDGE_PURGE_URL = "https://edge.internal/internal/purge";
/** Keys per call: keeps each request small whatever the backlog. */
const BATCH = 100;
const TIMEOUT_MS = 10_000;

export class ServiceBindingPurger implements Purger {
  constructor(
    private readonly edge: Fetcher,
    private readonly secret: string,
  ) {}

  async purge(request: PurgeRequest): Promise<void> {
    const batches: PurgeRequest[] = [];
    for (let i = 0; i < request.keys.length; i += BATCH) {
      batches.push({ keys: request.keys.slice(i, i + BATCH), namespaces: [] });
    }
    if (request.namespaces.length > 0) {
      const first = batches[0];
      if (first) first.namespaces = request.namespaces;
      else batches.push({ keys: [], namespaces: request.namespaces });
    }
    for (const batch of batches) await this.send(batch);
  }

  private async send(batch: PurgeRequest): Promise<void> {
    let response: Response;
    try {
      response = await this.edge.fetch(EDGE_PURGE_URL, {
        method: "POST",
        headers: { "Content-Type": "application/json", [INTERNAL_SECRET_HEADER]: this.secret },
        body: JSON.stringify(batch),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      throw new PurgeError(`edge purge failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    // Read the body either way so the connection is released.
    const text = await response.text();
    if (!response.ok) throw new PurgeError(`edge purge answered ${response.status}: ${text.slice(0, 200)}`);
  }
}
