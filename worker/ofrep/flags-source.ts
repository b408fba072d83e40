/**
 * Reads the current version of a flags config through the edge's tiered store, with the same
 * tiers, stale-while-revalidate and read-token checks as `GET /v1/configs/{key}` (its public
 * lookups only: memory first without awaiting, then the Cache API and KV).
 */
import type { Context } from "hono";
import { annotate, type CacheTier, type ConfigKey, FleetconfError, isClientId } from "../../core";
import type { EdgeHonoEnv } from "../app-env";
import { authorizeRead } from "../auth/read-auth";
import { upstreamReasonOf, upstreamUnavailable } from "../cache/kv-reader";
import type { PreparedSnapshot } from "../cache/prepared";
import { requestLocation } from "../http/location";
import { selectVersion } from "../select-version";

export interface FlagsSnapshot {
  snapshot: PreparedSnapshot;
  version: number;
  /** The deepest tier used and whether the head was served stale. */
  tier: CacheTier;
  stale: boolean;
  /** The namespace's Cache-Control for a current version, and whether it is public. */
  cacheControl: string;
  visibility: "public" | "private";
}

const TIER_DEPTH: Record<CacheTier, number> = { memory: 0, cache: 1, kv: 2, origin: 3 };

export async function readFlagsSnapshot(c: Context<EdgeHonoEnv>, target: ConfigKey): Promise<FlagsSnapshot> {
  const { store, now } = c.get("services");
  const { key, namespace } = target;
  const ctx = c.executionCtx;
  const settings = store.memorySettings(namespace) ?? (await store.settings(namespace, ctx));
  c.set("namespaceSettings", settings);
  const visibility = settings.entry.settings.visibility === "public" ? "public" : "private";
  if (visibility !== "public") await authorizeRead(c, namespace);

  const hot = store.memoryHead(key, settings.entry.settings);
  // As config reads: a head served from memory is compared with the location's copy when due, off
  // the request, so a publish reaches flag evaluations as fast as it reaches reads.
  if (hot !== undefined) store.revalidateIfDue(key, namespace, settings.entry.settings, ctx);
  const head = hot ?? (await store.head(key, namespace, settings.entry.settings, ctx));
  const record = head.entry.head;
  if (record === null || record.deleted) {
    annotate(c, { key, tier: head.tier, outcome: record === null ? "absent" : "deleted" });
    throw new FleetconfError("not_found", `No flags config is published at ${key}.`);
  }
  // A staged rollout of the flags config follows the client's cohort as config reads do.
  const version = selectVersion(record, clientIdOf(c), now(), () => requestLocation(c.req.raw)).version;
  let found = store.memorySnapshot(key, version);
  try {
    found ??= (await store.snapshot(key, namespace, version, ctx)) ?? undefined;
  } catch (error) {
    throw upstreamUnavailable(upstreamReasonOf(error));
  }
  // The served version's snapshot was read before its head was adopted.
  if (found === undefined) throw upstreamUnavailable("snapshot-missing");
  const tier = TIER_DEPTH[head.tier] >= TIER_DEPTH[found.tier] ? head.tier : found.tier;
  annotate(c, { key, version, tier, stale: head.stale });
  return {
    snapshot: found.snapshot,
    version,
    tier,
    stale: head.stale,
    cacheControl: settings.entry.headCacheControl,
    visibility,
  };
}

/** `Config-Client-Id` when sent (core's client-id rule); an OFREP client rarely sends one, and then it is stable. */
function clientIdOf(c: Context<EdgeHonoEnv>): string | null {
  const raw = c.req.header("Config-Client-Id");
  if (raw === undefined) return null;
  if (!isClientId(raw)) {
    throw new FleetconfError(
      "invalid_request",
      "Config-Client-Id must be 1 to 128 characters of [A-Za-z0-9._:-].",
    );
  }
  return raw;
}
