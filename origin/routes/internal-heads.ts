/**
 * `GET /internal/heads/{key}`: a key's head read from its NamespaceStore (the source of truth),
 * for the edge, which calls it through its `ORIGIN` service binding after a purge or on a miss
 * instead of reading KV, whose copy in other locations may be up to 60 s old (docs/delivery.md).
 * Answers the head record the drain writes to KV (core/snapshot.ts `HeadRecord`), or 404 for a key
 * never published. Authenticated like /internal/fleet, by the shared PURGE_SECRET in
 * `Fleetconf-Purge-Secret` compared in constant time; outside /v1, so admin tokens play no part.
 *
 * Built by the store (`head`, the drain's own headRecordOf), so it carries the delete generation's
 * floor, the redacted versions and the stored Config-Freshness proofs as KV's copy does. The head
 * may name a version the drain has not yet written to KV (and then carry no proof for it yet); the
 * edge adopts a head only once its snapshots are readable and otherwise falls back to KV's head.
 */
import { type Context, Hono } from "hono";
import {
  annotate,
  FleetconfError,
  INTERNAL_SECRET_HEADER,
  internalSecretHolds,
  parseBundleKey,
  requireKey,
} from "../../core";
import type { OriginApp } from "../app-env";

const PREFIX = "/internal/heads/";

export function internalHeadRoutes(): Hono<OriginApp> {
  const routes = new Hono<OriginApp>();
  routes.get("/internal/heads/*", readHead);
  routes.all("/internal/heads/*", () => {
    throw new FleetconfError("method_not_allowed", "Heads are read with GET.", { headers: { Allow: "GET" } });
  });
  return routes;
}

async function readHead(c: Context<OriginApp>): Promise<Response> {
  // An unset secret must not turn into "an empty header is enough" (core/internal-secret.ts).
  if (!internalSecretHolds(c.req.header(INTERNAL_SECRET_HEADER), c.env.PURGE_SECRET)) {
    throw new FleetconfError("unauthorized", `A valid ${INTERNAL_SECRET_HEADER} header is required.`);
  }
  const path = new URL(c.req.url).pathname;
  const raw = path.slice(PREFIX.length);
  // A bundle's manifest travels under its pseudo-key `bundle:{namespace}/{name}` (core/bundles.ts).
  const bundle = parseBundleKey(raw);
  const { key, namespace } = bundle ?? requireKey(raw);
  const store = c.get("services").store(namespace);
  // A config's head is the store's own (drain.ts headRecordOf): with the delete generation's floor,
  // the redacted versions and the stored Config-Freshness proofs, exactly as the drain writes it to KV.
  const head = bundle ? await store.bundleHead(bundle.namespace, bundle.name) : await store.head(key);
  annotate(c, { key, head: head === null ? "absent" : head.deleted ? "deleted" : head.version });
  if (head === null) throw new FleetconfError("not_found", `No config is published at ${key}.`);
  // Never stored by anything between the two workers: this is the uncached truth.
  return c.json(head, 200, { "Cache-Control": "no-store" });
}
