/**
 * `GET|HEAD /v1/configs/{key}[?version=N]` (DESIGN §3): the exact published bytes with their
 * prebuilt identity headers, Cache-Control from the namespace, Cache-Status (RFC 9211) naming the
 * deepest tier used, and conditional requests answered with 304 (RFC 9110 §13.1.2, §13.1.3).
 * HEAD is GET without the body (Hono dispatches HEAD to the GET handler and drops the body).
 * Long-poll (DESIGN §8, RFC 7240 `Prefer: wait`): a GET of the current version whose
 * If-None-Match still matches is held until the key changes or the wait ends (docs/edge.md).
 */
import { type Context, Hono } from "hono";
import {
  annotate,
  type CacheTier,
  cacheStatus,
  FleetconfError,
  ifNoneMatchHits,
  notModifiedSince,
  preferredWait,
} from "../../core";
import type { ConfigTarget, EdgeHonoEnv } from "../app-env";
import { authorizeRead } from "../auth/read-auth";
import type { HeadEntry, SettingsEntry } from "../cache/entries";
import { type UpstreamReason, upstreamReasonOf, upstreamUnavailable } from "../cache/kv-reader";
import type { HeaderList, PreparedSnapshot } from "../cache/prepared";
import type { Lookup, SnapshotLookup } from "../cache/tiered-store";
import { parseConfigTarget } from "../http/config-target";
import { requestLocation } from "../http/location";
import { isKnownVersion, isRedacted, type Selection, selectVersion } from "../select-version";

const TIER_DEPTH: Record<CacheTier, number> = { memory: 0, cache: 1, kv: 2, origin: 3 };
/**
 * `Vary` names only what an answer depends on (DESIGN §3, RFC 9110 §12.5.5). Outside a rollout a
 * public key's answer is one representation for every client, so it carries no Vary and a shared
 * cache keeps one entry; during a rollout the current version depends on Config-Client-Id (and
 * is `private`); a private namespace's answers depend on the token.
 */
const VARY_ROLLOUT_PUBLIC = "Config-Client-Id";
const VARY_PRIVATE = "Authorization";
const VARY_ROLLOUT_PRIVATE = "Authorization, Config-Client-Id";
/** Seconds a long-poll turned away by MAX_WAITERS should wait before trying again. */
const WAITERS_RETRY_AFTER_SECONDS = 1;

export function configRoutes(): Hono<EdgeHonoEnv> {
  const routes = new Hono<EdgeHonoEnv>();
  routes.get("/v1/configs/*", serveConfig);
  routes.all("/v1/configs/*", () => {
    throw new FleetconfError("method_not_allowed", "Configs are read with GET or HEAD at the edge.", {
      headers: { Allow: "GET, HEAD" },
    });
  });
  return routes;
}

/** What a read would answer now: the snapshot served and everything its headers depend on. */
interface Answer {
  snapshot: PreparedSnapshot;
  version: number;
  selection: Selection | null;
  tier: CacheTier;
  stale: boolean;
  upstreamError: UpstreamReason | undefined;
  cacheStatus: string;
  /** Whether the request's validators match it (a 304). */
  notModified: boolean;
  /** The head's Config-Freshness proof for this version (current reads only). */
  freshness: string | undefined;
}

/**
 * One handler, not a chain of middlewares: the hot path (everything fresh in isolate memory) runs
 * without awaiting anything; each tier is awaited only when memory cannot answer. A long-poll
 * (`If-None-Match` that matches + `Prefer: wait`) is parked only after the token was checked and
 * the answer computed, and answers as a plain read would when it ends (DESIGN §8).
 */
async function serveConfig(c: Context<EdgeHonoEnv>): Promise<Response> {
  return serveTarget(c, parseConfigTarget(c));
}

/**
 * Answers a read of one target: a config, or a bundle's manifest under its pseudo-key
 * (routes/bundles.ts), which is served, cached, revalidated and long-polled the same way.
 */
export async function serveTarget(c: Context<EdgeHonoEnv>, target: ConfigTarget): Promise<Response> {
  c.set("target", target);
  const { store } = c.get("services");
  const { namespace } = target.key;

  // The namespace's settings decide who may read and the Cache-Control the answer carries.
  const settings = store.memorySettings(namespace) ?? (await store.settings(namespace, c.executionCtx));
  c.set("namespaceSettings", settings);
  if (settings.entry.settings.visibility !== "public") await authorizeRead(c, namespace);

  const evaluated = evaluate(c, target, settings.entry);
  const answer = evaluated instanceof Promise ? await evaluated : evaluated;
  const wait = answer.notModified ? longPollWait(c, target) : null;
  if (wait === null) return respond(c, target, settings.entry, answer, null);
  return hold(c, target, settings.entry, answer, wait);
}

/** The wait a read asks for and may have: GET of the current version with If-None-Match. */
function longPollWait(c: Context<EdgeHonoEnv>, target: ConfigTarget): number | null {
  // `?version=N` never changes and HEAD carries no body to wait for: both are answered at once.
  if (target.version !== null || c.req.method !== "GET") return null;
  if (c.req.header("If-None-Match") === undefined) return null;
  return preferredWait(c.req.header("Prefer"));
}

/**
 * Holds a long-poll until the key's answer for this client changes, the wait ends or the client
 * disconnects. Whatever happens upstream meanwhile, the request never gets an error it would not
 * have got without waiting: at its deadline it gets the answer now, or else the last good one.
 */
async function hold(
  c: Context<EdgeHonoEnv>,
  target: ConfigTarget,
  settings: SettingsEntry,
  first: Answer,
  waitSeconds: number,
): Promise<Response> {
  const { store, waiters } = c.get("services");
  if (!waiters.hasRoom()) {
    throw new FleetconfError(
      "too_many_waiters",
      "This edge holds as many long-poll requests as it may; retry shortly, or poll without Prefer: wait.",
      { headers: { "Retry-After": String(WAITERS_RETRY_AFTER_SECONDS) } },
    );
  }
  const { key, namespace } = target.key;
  const ctx = c.executionCtx;
  const deadline = Date.now() + waitSeconds * 1000;
  const applied = `wait=${waitSeconds}`;
  let last = first;
  // The client holds `first` now and its status is fresh: recorded before the hold, not after.
  c.get("recordHeld")?.(key, first.version);
  for (;;) {
    const remaining = deadline - Date.now();
    const outcome =
      remaining > 0
        ? await waiters.park({
            key,
            waitMs: remaining,
            signal: c.req.raw.signal,
            check: () => store.revalidate(key, namespace, settings.settings, ctx),
          })
        : "deadline";
    if (outcome === "aborted") {
      // Nobody reads this answer; its slot was freed when the client went away.
      annotate(c, { longPoll: "abandoned" });
      return respond(c, target, settings, last, applied);
    }
    let next: Answer;
    try {
      next = await settled(evaluate(c, target, settings));
    } catch (error) {
      // A key deleted meanwhile is news (a plain read would say 404 now); an unreachable upstream
      // is not: keep waiting, and answer the last good state at the deadline.
      if (error instanceof FleetconfError && error.status === 404) throw error;
      if (outcome === "deadline") {
        annotate(c, { longPoll: "deadline-last-good" });
        return respond(c, target, settings, last, applied);
      }
      continue;
    }
    if (!next.notModified || outcome === "deadline") {
      annotate(c, { longPoll: next.notModified ? "deadline" : "changed" });
      return respond(c, target, settings, next, applied);
    }
    last = next;
  }
}

/**
 * The answer a read gets now (head → version → snapshot), without building the response. Not
 * async: when isolate memory holds everything it returns the answer itself, so the hot path
 * awaits nothing (BENCHMARKS.md §1b); a promise only when a tier below memory is read.
 */
function evaluate(
  c: Context<EdgeHonoEnv>,
  target: ConfigTarget,
  settings: SettingsEntry,
): Answer | Promise<Answer> {
  const { store } = c.get("services");
  const { key, namespace } = target.key;
  const ctx = c.executionCtx;
  const hot = store.memoryHead(key, settings.settings);
  if (hot === undefined) {
    return store.head(key, namespace, settings.settings, ctx).then((head) => fromHead(c, target, head));
  }
  // Off the request: compares this memory head with the location's Cache API when due.
  store.revalidateIfDue(key, namespace, settings.settings, ctx);
  return fromHead(c, target, hot);
}

async function settled(answer: Answer | Promise<Answer>): Promise<Answer> {
  return answer;
}

function fromHead(
  c: Context<EdgeHonoEnv>,
  target: ConfigTarget,
  head: Lookup<HeadEntry>,
): Answer | Promise<Answer> {
  const { store, now } = c.get("services");
  const { key, namespace } = target.key;
  // Cache-Status describes the config served (its head and bytes); the namespace settings only
  // shape Cache-Control, and a failure reading them shows up in the log line.
  const { stale, upstreamError } = head;
  const status = (tier: CacheTier) =>
    cacheStatus(tier, { stale, ttl: head.ttlMs / 1000, error: upstreamError });

  const record = head.entry.head;
  if (record === null || record.deleted) {
    annotate(c, { key, tier: head.tier, outcome: record === null ? "absent" : "deleted" });
    throw new FleetconfError("not_found", `No config is published at ${key}.`, {
      headers: { "Cache-Status": status(head.tier) },
    });
  }
  const selection: Selection | null =
    target.version === null
      ? selectVersion(record, target.clientId, now(), () => requestLocation(c.req.raw))
      : null;
  const version = target.version ?? selection?.version ?? record.version;
  if (target.version !== null && !isKnownVersion(record, version))
    throw versionNotFound(key, version, status(head.tier));
  if (target.version !== null && isRedacted(record, version)) {
    annotate(c, { key, version, tier: head.tier, outcome: "redacted" });
    throw new FleetconfError("gone", `Version ${version} of ${key} was redacted.`, {
      headers: { "Cache-Status": status(head.tier) },
    });
  }
  // DESIGN §8: every answer of a current version carries the origin's signed freshness proof for
  // it. Not on ?version=N, which is immutable: a proof with an expiry does not belong in it.
  const freshness = target.version === null ? record.freshness?.[String(version)] : undefined;

  const answerWith = (found: SnapshotLookup | null): Answer => {
    if (found === null) {
      // The current version's snapshot was checked when its head was adopted, so only an
      // explicitly requested old version can be missing.
      if (target.version !== null) throw versionNotFound(key, version, status(head.tier));
      throw upstreamUnavailable("snapshot-missing");
    }
    const tier = deeper(head.tier, found.tier);
    const { snapshot } = found;
    return {
      snapshot,
      version,
      selection,
      tier,
      stale,
      upstreamError,
      cacheStatus: status(tier),
      notModified: isNotModified(c, snapshot),
      freshness,
    };
  };
  const hot = store.memorySnapshot(key, version);
  if (hot !== undefined) return answerWith(hot);
  return store.snapshot(key, namespace, version, c.executionCtx).then(answerWith, (error: unknown) => {
    throw upstreamUnavailable(upstreamReasonOf(error));
  });
}

function respond(
  c: Context<EdgeHonoEnv>,
  target: ConfigTarget,
  settings: SettingsEntry,
  answer: Answer,
  preferenceApplied: string | null,
): Response {
  const { key } = target.key;
  const { snapshot, selection, version, tier, stale, upstreamError } = answer;
  const rollout = selection?.rollout ?? null;
  // `?version=N` is one immutable representation for everyone; the current version during a
  // rollout depends on Config-Client-Id, so no shared cache may keep it (docs/rollouts.md).
  const cacheControl =
    target.version !== null
      ? settings.versionCacheControl
      : rollout
        ? settings.rolloutCacheControl
        : settings.headCacheControl;
  const isPublic = settings.settings.visibility === "public";
  const vary = rollout
    ? isPublic
      ? VARY_ROLLOUT_PUBLIC
      : VARY_ROLLOUT_PRIVATE
    : isPublic
      ? null
      : VARY_PRIVATE;
  annotate(c, {
    key,
    version,
    ...(rollout ? { rollout: rollout.role, share: rollout.share } : {}),
    ...(rollout?.ring ? { ring: rollout.ring } : {}),
    tier,
    stale,
    ...(upstreamError ? { upstreamError } : {}),
    ...(preferenceApplied ? { waited: preferenceApplied } : {}),
  });
  const namespaceSettings = c.get("namespaceSettings");
  if (namespaceSettings.upstreamError)
    annotate(c, { settingsUpstreamError: namespaceSettings.upstreamError });
  c.set("served", { key, version, tier, stale, ...(upstreamError ? { upstreamError } : {}) });
  const perRequest: [string, string][] = [
    ["Cache-Control", cacheControl],
    ["Cache-Status", answer.cacheStatus],
    ["Server-Timing", `edge;dur=${(performance.now() - target.startedAt).toFixed(1)};desc="${tier}"`],
  ];
  if (vary !== null) perRequest.push(["Vary", vary]);
  if (rollout) {
    // `ring=in|out` only when the rollout has a ring: outside it the share does not apply here.
    const ring = rollout.ring ? `; ring=${rollout.ring}` : "";
    perRequest.push(["Config-Rollout", `${rollout.role}; share=${rollout.share}${ring}`]);
  }
  if (preferenceApplied !== null) perRequest.push(["Preference-Applied", preferenceApplied]);
  if (answer.freshness !== undefined) perRequest.push(["Config-Freshness", answer.freshness]);
  if (answer.notModified) {
    return new Response(null, { status: 304, headers: headersOf(snapshot.notModifiedHeaders, perRequest) });
  }
  const headers = headersOf(snapshot.headers, perRequest);
  // RFC 9110 §9.3.2: HEAD carries the header fields GET would, Content-Length included.
  if (c.req.method === "HEAD") headers["Content-Length"] = String(snapshot.body.length);
  return new Response(snapshot.body, { status: 200, headers });
}

/**
 * The response's header fields, the snapshot's fixed ones then the request's own, as one plain
 * record: the cheapest init workerd turns into a `Response`'s headers (BENCHMARKS.md, finding 1).
 */
function headersOf(fixed: HeaderList, perRequest: HeaderList): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of fixed) headers[name] = value;
  for (const [name, value] of perRequest) headers[name] = value;
  return headers;
}

/** RFC 9110 §13.2.2: If-None-Match first; If-Modified-Since only when it is absent. */
function isNotModified(c: Context<EdgeHonoEnv>, snapshot: PreparedSnapshot): boolean {
  const ifNoneMatch = c.req.header("If-None-Match");
  if (ifNoneMatch !== undefined) return ifNoneMatchHits(ifNoneMatch, snapshot.meta.etag);
  return notModifiedSince(c.req.header("If-Modified-Since"), snapshot.meta.publishedAt);
}

function deeper(a: CacheTier, b: CacheTier): CacheTier {
  return TIER_DEPTH[a] >= TIER_DEPTH[b] ? a : b;
}

function versionNotFound(key: string, version: number, status: string): FleetconfError {
  return new FleetconfError("not_found", `Version ${version} of ${key} does not exist.`, {
    headers: { "Cache-Status": status },
  });
}
