/**
 * §9 The production model (issue 13 §1): N simulated locations (bench/lib/locations.ts), each its
 * own edge over its own KV replica lagging the primary, a zone purge by tag that reaches each
 * location's Cache API after a delay but never isolate memory, and the real origin. Today's design
 * (`HEAD_SOURCE=kv`, clients polling) and the new one (`HEAD_SOURCE=origin`, clients long-polling)
 * run in the same model, rounds alternating ABBA. Per publish: acknowledgement → every location
 * serves the new version (a prober per location and key), and → 99 % of the clients of every
 * location hold it.
 */

import { OriginAdmin } from "../lib/admin";
import type { BenchContext } from "../lib/context";
import { benchDocument } from "../lib/document";
import {
  DEFAULT_LOCATIONS,
  DESIGNS,
  type Design,
  type LocationSpec,
  type LocationsModel,
  startLocationsModel,
} from "../lib/locations";
import type { Cell, Section, Target } from "../lib/report";
import { progress } from "../lib/report";
import { type Rng, seededRng } from "../lib/rng";
import { keepWarnings } from "../lib/stacks";
import { percentile, round, summarize } from "../lib/stats";

const NAMESPACE = "benchloc";
/** Namespace defaults (DESIGN §3 / docs/operations.md): max-age 5 s, stale-while-revalidate 30 s. */
const MAX_AGE_S = 5;

export interface LocationsParams {
  locations: readonly LocationSpec[];
  seed: number;
  lagMaxMs: number;
  newKeyLagMs: number;
  purgeDelayMs: number;
  /** Polling clients' interval (the SDK's default, client/schedule.ts DEFAULT_INTERVAL_MS). */
  pollIntervalMs: number;
  /** `Prefer: wait` of the long-polling clients (the SDK's default `waitSeconds`, client/types.ts). */
  longPollWaitS: number;
  probeMs: number;
  rounds: number;
  keys: number;
  clientsPerKey: number;
  scanMs: number;
}

export function locationsParams(ctx: BenchContext): LocationsParams {
  return {
    locations: DEFAULT_LOCATIONS,
    seed: 13,
    lagMaxMs: ctx.quick ? 10_000 : 60_000,
    newKeyLagMs: 0,
    purgeDelayMs: 150,
    pollIntervalMs: 5_000,
    longPollWaitS: 30,
    probeMs: 100,
    rounds: ctx.quick ? 1 : 4,
    keys: ctx.quick ? 2 : 5,
    clientsPerKey: ctx.quick ? 4 : 10,
    scanMs: 2000,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Tally {
  requests: number;
  errors: number;
  byStatus: Record<string, number>;
  /** Long-poll answers without `Preference-Applied` (the edge did not hold the request). */
  notHonoured: number;
  honoured: number;
}

const tally = (): Tally => ({ requests: 0, errors: 0, byStatus: {}, notHonoured: 0, honoured: 0 });

/**
 * A lean client of one key: conditional GETs with the ETag it holds, as the SDK sends them.
 * Polling: every `interval` plus up to 10 % jitter (client/schedule.ts). Long-poll: `Prefer: wait`
 * re-issued as soon as an answer comes, falling back to polling when the edge does not say
 * `Preference-Applied` (DESIGN §8).
 */
class LeanClient {
  version = 0;
  private etag: string | null = null;
  private readonly listeners = new Set<(version: number) => void>();

  constructor(
    private readonly url: string,
    private readonly mode: "poll" | "long-poll",
    private readonly params: LocationsParams,
    private readonly rng: Rng,
    private readonly counts: Tally,
    private readonly signal: AbortSignal,
  ) {}

  onVersion(listener: (version: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async run(startDelayMs: number): Promise<void> {
    await sleep(startDelayMs);
    while (!this.signal.aborted) {
      let wait = this.params.pollIntervalMs * (1 + 0.1 * this.rng());
      try {
        const headers: Record<string, string> = {};
        if (this.etag) headers["If-None-Match"] = this.etag;
        if (this.mode === "long-poll" && this.etag) headers.Prefer = `wait=${this.params.longPollWaitS}`;
        const res = await fetch(this.url, {
          headers,
          signal: AbortSignal.any([
            this.signal,
            AbortSignal.timeout((this.params.longPollWaitS + 15) * 1000),
          ]),
        });
        await res.arrayBuffer();
        this.counts.requests++;
        this.counts.byStatus[res.status] = (this.counts.byStatus[res.status] ?? 0) + 1;
        if (res.status === 200) {
          this.etag = res.headers.get("ETag");
          const version = Number(res.headers.get("Config-Version") ?? 0);
          if (version > this.version) {
            this.version = version;
            for (const listener of this.listeners) listener(version);
          }
        } else if (res.status !== 304) this.counts.errors++;
        if (this.mode === "long-poll" && headers.Prefer) {
          if (res.headers.get("Preference-Applied")?.includes("wait")) {
            this.counts.honoured++;
            wait = 0;
          } else this.counts.notHonoured++;
        }
      } catch {
        if (this.signal.aborted) return;
        this.counts.errors++;
        wait = 1000;
      }
      if (wait > 0) await sleep(wait);
    }
  }
}

async function versionAt(
  url: string,
): Promise<{ version: number; cacheStatus: string | null; status: number }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  await res.arrayBuffer();
  return {
    status: res.status,
    version: res.status === 200 ? Number(res.headers.get("Config-Version") ?? 0) : 0,
    cacheStatus: res.headers.get("Cache-Status"),
  };
}

interface PublishSample {
  design: Design;
  round: number;
  key: string;
  /** ms from the 201 until the location's prober first read the new version (null: not within the deadline). */
  serveByLocation: Array<number | null>;
  /** ms from the 201 until every location serves it. */
  serveAll: number | null;
  /** ms until 99 % of the key's clients at each location hold it; the max over locations. */
  clients99: number | null;
  clients99ByLocation: Array<number | null>;
}

const keyFor = (design: Design, i: number) => `${NAMESPACE}/${design}/k${i}`;
const urlFor = (base: string, key: string) => `${base}/v1/configs/${key}`;

/**
 * Proves the locations are separate: a key read twice at location 0 is a memory hit there, and
 * its first read at every other location is not a hit of any tier.
 */
async function checkIsolation(model: LocationsModel, key: string): Promise<string> {
  const [first, ...others] = model.locations;
  if (!first) throw new Error("no locations");
  for (const design of DESIGNS) {
    await versionAt(urlFor(first.urls[design], key));
    const again = await versionAt(urlFor(first.urls[design], key));
    if (!again.cacheStatus?.includes("detail=memory"))
      throw new Error(
        `isolation check: second read at ${first.spec.name} (${design}) was ${again.cacheStatus}`,
      );
    for (const loc of others) {
      const there = await versionAt(urlFor(loc.urls[design], key));
      if (there.status !== 200 || /; hit/.test(there.cacheStatus ?? ""))
        throw new Error(
          `isolation check: first read at ${loc.spec.name} (${design}) was ${there.status} ${there.cacheStatus}`,
        );
    }
  }
  return `a key read at ${first.spec.name} was a memory hit there and a miss (${DESIGNS.length} designs × ${others.length} other locations) everywhere else`;
}

export async function locationsSection(ctx: BenchContext, params = locationsParams(ctx)): Promise<Section> {
  const rng = seededRng(params.seed);
  /** Warning and error events the workers logged, by source and event (e.g. "syd (Sydney): origin_head_fallback/origin-timeout"). */
  const warnings = new Map<string, number>();
  const model = await startLocationsModel(
    ctx,
    {
      locations: params.locations,
      rng,
      lagMaxMs: params.lagMaxMs,
      newKeyLagMs: params.newKeyLagMs,
      purgeDelayMs: params.purgeDelayMs,
      scanMs: params.scanMs,
    },
    (chunk, source) => {
      keepWarnings(ctx.logFile, chunk);
      for (const line of chunk.split("\n")) {
        const event = /"event":"([a-z_]+)"/.exec(line)?.[1];
        const reason = /"reason":"([a-z-]+)"/.exec(line)?.[1];
        if (!event || !/"level":"(warn|error)"/.test(line)) continue;
        const id = `${source}: ${event}${reason ? `/${reason}` : ""}`;
        warnings.set(id, (warnings.get(id) ?? 0) + 1);
      }
    },
  );
  const stop = new AbortController();
  const counts: Record<Design, Tally> = { kv: tally(), origin: tally() };
  const running: Promise<void>[] = [];
  try {
    model.replicator.start();
    const admin = await OriginAdmin.create(model.origin.url, ctx.secrets.ADMIN_JWT_SECRET);
    await admin.setNamespace(NAMESPACE, { visibility: "public", maxAge: MAX_AGE_S });
    const versions = new Map<string, number>();
    const keys = DESIGNS.flatMap((design) =>
      Array.from({ length: params.keys }, (_, i) => keyFor(design, i)),
    );
    for (const key of keys) versions.set(key, (await admin.mustPublish(key, benchDocument(4096, 0))).version);
    const isoKey = `${NAMESPACE}/iso/probe`;
    await admin.mustPublish(isoKey, benchDocument(1024, 0));
    await sleep(params.scanMs + 500); // new keys reach the replicas at their purge, at the latest at the next scan
    const isolation = await checkIsolation(model, isoKey);
    progress("locations", "isolation", isolation);

    // Clients: per design, location and key.
    const clients = new Map<string, LeanClient[]>();
    for (const design of DESIGNS) {
      for (const [li, loc] of model.locations.entries()) {
        for (let k = 0; k < params.keys; k++) {
          const key = keyFor(design, k);
          const list: LeanClient[] = [];
          for (let c = 0; c < params.clientsPerKey; c++) {
            const client = new LeanClient(
              urlFor(loc.urls[design], key),
              design === "kv" ? "poll" : "long-poll",
              params,
              rng,
              counts[design],
              stop.signal,
            );
            list.push(client);
            running.push(client.run(rng() * params.pollIntervalMs));
          }
          clients.set(`${design}|${li}|${key}`, list);
        }
      }
    }
    const allHold = async (design: Design, key: string, version: number, deadline: number) => {
      while (performance.now() < deadline) {
        const ok = model.locations.every((_, li) =>
          (clients.get(`${design}|${li}|${key}`) ?? []).every((c) => c.version >= version),
        );
        if (ok) return true;
        await sleep(100);
      }
      return false;
    };
    const settleMs = params.pollIntervalMs * 2 + 10_000;
    const settleBy = performance.now() + settleMs;
    for (const key of keys) {
      const design = key.split("/")[1] as Design;
      if (!(await allHold(design, key, versions.get(key) ?? 1, settleBy)))
        throw new Error(
          `clients of ${key} did not all receive version 1 within ${Math.round(settleBy / 1000)} s`,
        );
    }
    progress(
      "locations",
      "set-up",
      `${model.locations.length} locations, ${keys.length} keys, clients ready`,
    );

    // A round is over when every location serves every key's new version and every client holds it.
    const deadlineMs = params.lagMaxMs + 3 * MAX_AGE_S * 1000 + params.pollIntervalMs * 1.1 + 10_000;
    const samples: PublishSample[] = [];
    const order: Design[] = [];
    for (let r = 0; r < params.rounds * 2; r++) order.push(r % 4 === 0 || r % 4 === 3 ? "kv" : "origin");
    for (const [roundIndex, design] of order.entries()) {
      const published: Array<{ key: string; version: number; ackedAt: number }> = [];
      const adoption = new Map<string, Array<Array<number | null>>>();
      const unsubscribe: Array<() => void> = [];
      for (let k = 0; k < params.keys; k++) {
        const key = keyFor(design, k);
        const next = (versions.get(key) ?? 0) + 1;
        const perLocation = model.locations.map((_, li) => {
          const list = clients.get(`${design}|${li}|${key}`) ?? [];
          const times: Array<number | null> = list.map(() => null);
          for (const [ci, client] of list.entries()) {
            unsubscribe.push(
              client.onVersion((v) => {
                if (v >= next && times[ci] === null) times[ci] = performance.now();
              }),
            );
          }
          return times;
        });
        adoption.set(key, perLocation);
        const result = await admin.mustPublish(key, benchDocument(4096, roundIndex * 100 + k + 1));
        versions.set(key, result.version);
        published.push({ key, version: result.version, ackedAt: result.ackedAt });
      }
      const deadline = performance.now() + deadlineMs;
      const probes = published.map(async (p) =>
        Promise.all(
          model.locations.map(async (loc) => {
            while (performance.now() < deadline) {
              const seen = await versionAt(urlFor(loc.urls[design], p.key)).catch(() => null);
              if (seen && seen.version >= p.version) return performance.now() - p.ackedAt;
              await sleep(params.probeMs);
            }
            return null;
          }),
        ),
      );
      const served = await Promise.all(probes);
      for (const p of published) await allHold(design, p.key, p.version, deadline);
      for (const off of unsubscribe) off();
      for (const [i, p] of published.entries()) {
        const serveByLocation = served[i] ?? [];
        const byLocation = (adoption.get(p.key) ?? []).map((times) => {
          const delays = times.map((t) =>
            t === null ? Number.POSITIVE_INFINITY : Math.max(0, t - p.ackedAt),
          );
          const p99 = percentile(delays, 99);
          return Number.isFinite(p99) ? round(p99, 1) : null;
        });
        const all = serveByLocation.every((v) => v !== null)
          ? Math.max(...(serveByLocation as number[]))
          : null;
        samples.push({
          design,
          round: roundIndex,
          key: p.key,
          serveByLocation: serveByLocation.map((v) => (v === null ? null : round(v, 1))),
          serveAll: all === null ? null : round(all, 1),
          clients99: byLocation.every((v) => v !== null) ? Math.max(...(byLocation as number[])) : null,
          clients99ByLocation: byLocation,
        });
      }
      const mine = samples.filter((s) => s.round === roundIndex);
      progress(
        "locations",
        `round ${roundIndex + 1}/${order.length} ${design}`,
        `every location serves: ${mine.map((s) => s.serveAll ?? "never").join(" / ")} ms; 99% of clients: ${mine
          .map((s) => s.clients99 ?? "never")
          .join(" / ")} ms`,
      );
    }
    return report(ctx, params, model, samples, counts, isolation, warnings);
  } finally {
    stop.abort();
    await Promise.race([Promise.allSettled(running), sleep(5000)]);
    await model.stop();
  }
}

/** How often, and how long, purge deliveries waited for the model's own snapshot copies. */
function heldNote(model: LocationsModel, delayMs: number): string {
  const held = model.zone.records.map((r) => r.heldForCopyMs).filter((ms) => ms > 0);
  return (
    `Zone purges whose delivery waited past the ${delayMs} ms delay for the model's snapshot copies: ` +
    `${held.length} of ${model.zone.records.length}${held.length ? `, by at most ${Math.max(...held)} ms (included in the new design's figures)` : ""}.`
  );
}

function stat(values: Array<number | null>) {
  const finite = values.filter((v): v is number => v !== null);
  const padded = [...finite, ...values.filter((v) => v === null).map(() => Number.POSITIVE_INFINITY)];
  const s = summarize(finite);
  const p99 = percentile(padded, 99);
  return {
    p50: s.p50,
    p99: Number.isFinite(p99) ? round(p99, 1) : null,
    max: finite.length === values.length ? s.max : null,
    never: values.length - finite.length,
  };
}

function report(
  ctx: BenchContext,
  params: LocationsParams,
  model: LocationsModel,
  samples: PublishSample[],
  counts: Record<Design, Tally>,
  isolation: string,
  warnings: ReadonlyMap<string, number>,
): Section {
  const rows: Cell[][] = [];
  const targets: Target[] = [];
  const summary: Record<string, unknown> = {};
  for (const design of DESIGNS) {
    const mine = samples.filter((s) => s.design === design);
    const serve = stat(mine.map((s) => s.serveAll));
    const hold = stat(mine.map((s) => s.clients99));
    const c = counts[design];
    summary[design] = { serve, hold };
    rows.push([
      design === "kv" ? "today: HEAD_SOURCE=kv, polling" : "new: HEAD_SOURCE=origin, long-poll",
      mine.length,
      serve.p50,
      serve.p99,
      serve.max,
      hold.p50,
      hold.p99,
      hold.max,
      serve.never + hold.never,
      c.requests,
      c.errors,
    ]);
    if (design === "origin") {
      targets.push({
        name: "model, new design: publish → every location serves it, p99 ≤ 1 s",
        met: mine.length > 0 && serve.p99 !== null ? serve.p99 <= 1000 : false,
        detail: `p99 ${serve.p99 ?? "never"} ms over ${mine.length} publishes`,
      });
      targets.push({
        name: "model, new design: publish → 99 % of clients in every location hold it, p99 ≤ 1.5 s",
        met: mine.length > 0 && hold.p99 !== null ? hold.p99 <= 1500 : false,
        detail: `p99 ${hold.p99 ?? "never"} ms; long-poll honoured ${c.honoured}, not honoured ${c.notHonoured}`,
      });
    }
  }
  const deliveries = model.zone.records.flatMap((r) => r.deliveries);
  const badDeliveries = deliveries.filter((d) => d.status < 200 || d.status > 299);
  targets.push({
    name: 'model sanity: every zone purge reached every location\'s Cache API (tiers: ["cache"] accepted)',
    met: deliveries.length > 0 && badDeliveries.length === 0,
    detail: `${deliveries.length - badDeliveries.length} of ${deliveries.length} deliveries 2xx${
      badDeliveries.length ? ` (statuses ${[...new Set(badDeliveries.map((d) => d.status))].join(", ")})` : ""
    }`,
  });
  const lags = model.replicator.stats.lagsDrawnMs;
  const lagSummary = summarize(lags);
  const perLocation = model.locations.map((loc, li) => {
    const per = (design: Design) =>
      summarize(
        samples
          .filter((s) => s.design === design)
          .flatMap((s) => (s.serveByLocation[li] == null ? [] : [s.serveByLocation[li] as number])),
      );
    return `${loc.spec.name} (RTT ${loc.spec.rttMs} ms): serves in p50 ${per("kv").p50} ms today, ${per("origin").p50} ms new`;
  });
  return {
    id: "locations",
    title: `9. Production model: ${params.locations.length} locations, KV lag ≤ ${params.lagMaxMs / 1000} s, zone purge after ${params.purgeDelayMs} ms`,
    method:
      `${params.locations.length} locations, each its own Miniflare (own workerd: own isolate memory, own Cache API, own KV ` +
      `replica) hosting today's edge (HEAD_SOURCE=kv) and the new one (HEAD_SOURCE=origin) under distinct CACHE_URL_BASEs; ` +
      `edge → origin through a delay proxy of the location's RTT (${params.locations.map((l) => `${l.rttMs}`).join("/")} ms); ` +
      `the real origin (Durable Objects) in PURGE_MODE=zone against a fake purge_cache API that answers as Cloudflare's ` +
      `and ${params.purgeDelayMs} ms later purges every location's Cache API only (tiers: ["cache"]). A replicator copies ` +
      `the primary KV to each replica after a lag drawn per location and write, uniform in [0, ${params.lagMaxMs / 1000} s] ` +
      `(seed ${params.seed}; keys a replica never held: ${params.newKeyLagMs} ms), noticing writes by a ${params.scanMs} ms ` +
      `rescan and at each purge. Namespace max-age ${MAX_AGE_S} s. Per round ${params.keys} keys are published; a prober per ` +
      `location and key reads every ${params.probeMs} ms; ${params.clientsPerKey} lean clients per key and location — polling ` +
      `every ${params.pollIntervalMs / 1000} s (+≤10 % jitter) today, long-polling (Prefer: wait=${params.longPollWaitS}) new. ` +
      `${params.rounds * 2} rounds, ABBA (kv, origin, origin, kv, …); a round gives up after the lag bound + 3 × max-age + ` +
      `the poll interval + 10 s.${
        params.lagMaxMs !== 60_000
          ? ` LAG BOUND ${params.lagMaxMs / 1000} s instead of KV's documented 60 s (${ctx.quick ? "quick mode" : "--lag-max"}).`
          : ""
      }`,
    columns: [
      "design",
      "publishes",
      "every location serves p50 ms",
      "p99 ms",
      "max ms",
      "99 % of clients hold p50 ms",
      "p99 ms",
      "max ms",
      "never (in deadline)",
      "client requests",
      "client errors",
    ],
    rows,
    targets,
    notes: [
      `Isolation: ${isolation}.`,
      heldNote(model, params.purgeDelayMs),
      `Replica lags drawn for overwrites: ${lags.length}, p50 ${lagSummary.p50} ms, max ${lagSummary.max} ms; copies superseded by a newer write: ${model.replicator.stats.copiesSuperseded}.`,
      ...perLocation,
      `Worker warnings/errors logged (workers.log): ${warnings.size ? [...warnings].map(([e, n]) => `${e} × ${n}`).join(", ") : "none"}.`,
      `Edge → origin requests through the delay proxies: ${[...model.proxied.entries()].map(([n, c]) => `${n} ${c}`).join(", ")}.`,
      ...(model.replicator.errors.length
        ? [`Replication errors: ${model.replicator.errors.slice(0, 3).join("; ")}`]
        : []),
    ],
    raw: {
      params,
      samples,
      counts,
      summary,
      zonePurges: model.zone.records.length,
      replicator: model.replicator.stats,
    },
  };
}
