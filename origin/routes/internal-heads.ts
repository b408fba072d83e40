/**
 * `GET /internal/heads/{key}`: a key's head read from its NamespaceStore (the source of truth),
 * for the edge, which calls it through its `ORIGIN` service binding after a purge or on a miss
 * instead of reading KV, whose copy in other locations may be up to 60 s old (docs/delivery.md).
 * Answers the head record the drain writes to KV (core/snapshot.ts `HeadRecord`), or 404 for a key
 * never published. Authenticated like /internal/fleet, by the shared PURGE_SECRET in
 * `Fleetconf-Purge-Secret` compared in constant time; outside /v1, so admin tokens play no part.
 *
 * Built from the store's existing read RPCs (rolloutStatus, history) so the origin's store needs
 * nothing new. The head may name a version the drain has not yet written to KV; the edge adopts a
 * head only once its snapshots are readable and otherwise falls back to KV's head.
 */
import { type Context, Hono } from "hono";
import {
  annotate,
  FleetconfError,
  type HeadRecord,
  INTERNAL_SECRET_HEADER,
  internalSecretHolds,
  requireKey,
} from "../../core";
import type { OriginApp } from "../app-env";
import { rolloutHeadOf } from "../store/rollout-tables";

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
  const { key, namespace } = requireKey(path.slice(PREFIX.length));
  const head = await headOf(c.get("services").store(namespace), key);
  annotate(c, { key, head: head === null ? "absent" : head.deleted ? "deleted" : head.version });
  if (head === null) throw new FleetconfError("not_found", `No config is published at ${key}.`);
  // Never stored by anything between the two workers: this is the uncached truth.
  return c.json(head, 200, { "Cache-Control": "no-store" });
}

type Store = ReturnType<OriginApp["Variables"]["services"]["store"]>;

/** The head the drain would write for `key` now (drain.ts `distributeKey`), or null if never published. */
async function headOf(store: Store, key: string): Promise<HeadRecord | null> {
  const view = await store.rolloutStatus(key);
  if (view.ok) {
    const { live, rollout, candidate } = view.value;
    const running = rollout !== null && rollout.endedAt === null && candidate !== null;
    return {
      v: 1,
      key,
      version: live.version,
      etag: live.etag,
      publishedAt: live.publishedAt,
      deleted: false,
      rollout: running ? rolloutHeadOf(rollout, candidate) : null,
    };
  }
  // Not live: deleted if it has history (history outlives a delete), else never published.
  const history = await store.history(key, null, 1);
  const last = history.ok ? history.value.versions[0] : undefined;
  if (last === undefined) return null;
  // A tombstone: the edge answers 404 for it whatever its other fields (publishedAt is the last
  // version's; the KV copy carries the deletion time, which no read RPC exposes).
  return {
    v: 1,
    key,
    version: last.version,
    etag: last.etag,
    publishedAt: last.publishedAt,
    deleted: true,
    rollout: null,
  };
}
