/**
 * `POST /internal/fleet`: the edge's batched sightings (core/fleet.ts), sent through its `ORIGIN`
 * service binding every few seconds, stored per namespace in FleetStore. Authenticated like the
 * edge's purge route, by the shared PURGE_SECRET in `Fleetconf-Purge-Secret` compared in constant
 * time; outside /v1, so admin tokens play no part. Not meant to be reachable from the public.
 */
import { type Context, Hono } from "hono";
import {
  annotate,
  FleetconfError,
  type FleetSighting,
  namespaceOfKey,
  parseFleetBatch,
  timingSafeEqualStrings,
} from "../../core";
import type { OriginApp } from "../app-env";
import { readBodyWithin } from "../http/body";
import { fleetShard } from "../http/ops-stores";
import { shardCount, shardOfColo } from "../store/fleet-shards";

export const INTERNAL_SECRET_HEADER = "Fleetconf-Purge-Secret";
const MAX_FLEET_BODY_BYTES = 1024 * 1024;

export function internalFleetRoutes(): Hono<OriginApp> {
  const routes = new Hono<OriginApp>();
  routes.post("/internal/fleet", recordFleet);
  routes.all("/internal/fleet", () => {
    throw new FleetconfError("method_not_allowed", "Sightings are POSTed.", { headers: { Allow: "POST" } });
  });
  return routes;
}

async function recordFleet(c: Context<OriginApp>): Promise<Response> {
  const secret = c.env.PURGE_SECRET ?? "";
  const given = c.req.header(INTERNAL_SECRET_HEADER);
  // An unset secret must not turn into "an empty header is enough".
  if (secret === "" || given === undefined || !timingSafeEqualStrings(given, secret)) {
    throw new FleetconfError("unauthorized", `A valid ${INTERNAL_SECRET_HEADER} header is required.`);
  }
  // Streamed and bounded whether or not the sender declared a Content-Length.
  const body = await readBodyWithin(c.req.raw, MAX_FLEET_BODY_BYTES);
  const parsed = parseFleetBatch(new TextDecoder().decode(body));
  if (!parsed.ok) throw new FleetconfError("invalid_request", `Invalid fleet batch: ${parsed.reason}.`);
  // One call per (namespace, shard): a location's sightings always go to the same shard.
  const shards = shardCount(c.env);
  const byShard = new Map<string, { namespace: string; shard: number; list: FleetSighting[] }>();
  const namespaces = new Set<string>();
  for (const sighting of parsed.value.sightings) {
    const namespace = namespaceOfKey(sighting.key);
    const shard = shardOfColo(sighting.colo, shards);
    namespaces.add(namespace);
    const id = `${namespace}#${shard}`;
    const entry = byShard.get(id) ?? { namespace, shard, list: [] };
    entry.list.push(sighting);
    byShard.set(id, entry);
  }
  const outcomes = await Promise.all(
    [...byShard.values()].map((e) => fleetShard(c.env, e.namespace, e.shard).record(e.list)),
  );
  const sum = (field: "refused" | "unserved" | "foreign") => outcomes.reduce((n, o) => n + o[field], 0);
  annotate(c, {
    sightings: parsed.value.sightings.length,
    namespaces: namespaces.size,
    dropped: parsed.value.dropped,
    refused: sum("refused"),
    unserved: sum("unserved"),
    foreign: sum("foreign"),
  });
  return c.json({ accepted: parsed.value.sightings.length }, 202);
}
