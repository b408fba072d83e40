/**
 * The edge's consistent head source (docs/delivery.md): a key's head read from the origin's
 * NamespaceStore through the `ORIGIN` service binding (`GET /internal/heads/{key}`, authenticated
 * by the shared PURGE_SECRET), instead of from KV, whose copy in other locations may be up to
 * 60 s old. Bounded by a timeout; any failure is an `UpstreamError` the tiered store answers by
 * falling back to KV's head (then stale-if-error), so the origin is never a new way to fail.
 */
import { type HeadRecord, INTERNAL_SECRET_HEADER } from "../../core";
import { UpstreamError, withTimeout } from "./kv-reader";
import { parseHeadRecord } from "./records";

export const DEFAULT_ORIGIN_HEAD_TIMEOUT_MS = 1000;
/** How often a head in isolate memory is compared with the location's Cache API (docs/delivery.md). */
export const DEFAULT_HEAD_REVALIDATE_MS = 250;
/** Where the route lives on the origin; the host is ignored by a service binding. */
const HEADS_URL = "https://origin.internal/internal/heads/";

export interface OriginHeadReader {
  /** The key's head, or null when the origin says it was never published. Throws UpstreamError. */
  head(key: string): Promise<HeadRecord | null>;
}

/** The two designs the edge can run (HEAD_SOURCE): heads from the origin (default) or from KV only. */
export type HeadSource = "origin" | "kv";

export function headSourceFrom(raw: string | undefined): HeadSource {
  return raw?.trim().toLowerCase() === "kv" ? "kv" : "origin";
}

export function originHeadReader(origin: Fetcher, secret: string, timeoutMs: number): OriginHeadReader {
  return {
    async head(key) {
      const read = async (): Promise<HeadRecord | null> => {
        const res = await origin.fetch(`${HEADS_URL}${key}`, {
          headers: { [INTERNAL_SECRET_HEADER]: secret },
        });
        if (res.status === 404) {
          await res.body?.cancel();
          return null;
        }
        if (res.status !== 200) {
          await res.body?.cancel();
          throw new UpstreamError("origin-error", `origin answered ${res.status} for the head of ${key}`);
        }
        return parseHeadRecord(await res.text(), key);
      };
      try {
        return await withTimeout(read(), timeoutMs, `origin head of ${key}`);
      } catch (error) {
        if (error instanceof UpstreamError && error.reason === "kv-timeout") {
          throw new UpstreamError("origin-timeout", `origin head of ${key} took over ${timeoutMs} ms`);
        }
        if (error instanceof UpstreamError && error.reason === "kv-error") {
          throw new UpstreamError("origin-error", error.message);
        }
        throw error;
      }
    },
  };
}
