/**
 * Purges by Cache-Tag through Cloudflare's zone purge API:
 * `POST {base}/zones/{zone}/purge_cache` with `{"tags": [...]}` and a Bearer API token. The edge
 * tags every cached response `fc:key:<key>,fc:ns:<namespace>`, so one tag clears a key (head and
 * versions) or a whole namespace in every location. Success means HTTP 2xx *and* `success: true`.
 */
import type { PurgeRequest, Purger } from "./purger";
import { PurgeError } from "./purger";

/** Tags per purge call accepted by the API. */
export const ZONE_PURGE_MAX_TAGS = 30;
const TIMEOUT_MS = 15_000;

export interface ZonePurgerOptions {
  zoneId: string;
  apiToken: string;
  /** E.g. `https://api.cloudflare.com/client/v4`, no trailing slash. */
  apiBase: string;
  fetch?: typeof fetch;
}

export function purgeTags(request: PurgeRequest): string[] {
  return [
    ...request.keys.map((key) => `fc:key:${key}`),
    ...request.namespaces.map((namespace) => `fc:ns:${namespace}`),
  ];
}

export class ZonePurger implements Purger {
  private readonly fetcher: typeof fetch;

  constructor(private readonly options: ZonePurgerOptions) {
    this.fetcher = options.fetch ?? ((input, init) => fetch(input, init));
  }

  async purge(request: PurgeRequest): Promise<void> {
    const tags = purgeTags(request);
    for (let i = 0; i < tags.length; i += ZONE_PURGE_MAX_TAGS) {
      await this.send(tags.slice(i, i + ZONE_PURGE_MAX_TAGS));
    }
  }

  private async send(tags: string[]): Promise<void> {
    const url = `${this.options.apiBase}/zones/${encodeURIComponent(this.options.zoneId)}/purge_cache`;
    let response: Response;
    try {
      response = await this.fetcher(url, {
        method: "POST",
        headers: { Authorization: `Bearer ${this.options.apiToken}`, "Content-Type": "application/json" },
        body: JSON.stringify({ tags }),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      throw new PurgeError(`zone purge failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    const text = await response.text();
    let success = false;
    let reason = text.slice(0, 200);
    try {
      const parsed = JSON.parse(text) as { success?: unknown; errors?: { message?: unknown }[] };
      success = parsed.success === true;
      const messages = (parsed.errors ?? []).map((e) => String(e.message)).join("; ");
      if (messages) reason = messages.slice(0, 200);
    } catch {
      // Not JSON (a proxy's error page): a failure, reported with the start of the text.
    }
    if (!response.ok || !success) {
      throw new PurgeError(`zone purge answered ${response.status}: ${reason}`);
    }
  }
}
