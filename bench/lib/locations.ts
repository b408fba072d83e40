/**
 * The production model ("locations", scenarios/locations.ts), everything on 127.0.0.1:
 *
 * - the REAL origin (Durable Objects, SQLite) in its own Miniflare, `PURGE_MODE=zone` with
 *   `PURGE_API_BASE` pointed at {@link FakeZonePurgeApi};
 * - N locations, each its OWN Miniflare (own workerd process: own isolate memory, own Cache API,
 *   own KV store on disk), hosting today's edge (`HEAD_SOURCE=kv`) and the new one
 *   (`HEAD_SOURCE=origin`) side by side under distinct `CACHE_URL_BASE`s, both reading the
 *   location's KV replica and reaching the origin through a delay proxy (the location's RTT);
 * - a {@link KvReplicator} copying the origin's KV (the primary) to each replica after a drawn,
 *   per-location, per-write lag, the way Workers KV is documented to lag (docs/benchmarks.md);
 * - {@link FakeZonePurgeApi}: answers `POST /zones/{zone}/purge_cache` as Cloudflare's API does and,
 *   after a delay, asks every location's edges to purge the Cache API tier only (`tiers: ["cache"]`),
 *   which is what a zone purge by tag reaches — never isolate memory.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { join } from "node:path";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import type { BenchContext } from "./context";
import { bundleWorker, type MiniflareStack, startMiniflare } from "./miniflare";
import { allocatePort } from "./ports";
import type { Rng } from "./rng";
import { REPO_ROOT } from "./wrangler";

/** One simulated Cloudflare location: a name and its round trip to the origin's Durable Object. */
export interface LocationSpec {
  name: string;
  rttMs: number;
}

/**
 * Default locations and their RTT to an origin Durable Object near Paris (a Durable Object lives
 * where it was first created, near its first caller). Round trips from the Paris row of
 * WonderProxy's city-to-city ping table (wonderproxy.com/blog/miles-per-milisecond): Milan 21 ms,
 * New York 77 ms, Dallas 132 ms, Fremont 175 ms, Sydney 349 ms; see docs/benchmarks.md.
 */
export const DEFAULT_LOCATIONS: readonly LocationSpec[] = [
  { name: "mxp (Milan)", rttMs: 21 },
  { name: "ewr (New York)", rttMs: 77 },
  { name: "dfw (Dallas)", rttMs: 132 },
  { name: "sjc (Fremont)", rttMs: 175 },
  { name: "syd (Sydney)", rttMs: 349 },
];

export type Design = "kv" | "origin";
export const DESIGNS: readonly Design[] = ["kv", "origin"];
const workerName = (design: Design) => `edge-${design}`;

/** What the model needs of a KV namespace (Miniflare's Node-side proxy of the binding). */
export interface KvStore {
  list(options?: { prefix?: string; cursor?: string }): Promise<{
    keys: Array<{ name: string; expiration?: number }>;
    list_complete: boolean;
    cursor?: string;
  }>;
  get(key: string, type: "arrayBuffer"): Promise<ArrayBuffer | null>;
  put(key: string, value: ArrayBuffer, options?: { expiration?: number }): Promise<void>;
  delete(key: string): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// KV replication

export interface ReplicaTarget {
  name: string;
  kv: KvStore;
}

export interface ReplicatorOptions {
  /** Lag of one overwrite at one replica, drawn per location and per write. */
  lagMs: (location: string) => number;
  /** Lag of a key the replica has never held (default 0: see docs/benchmarks.md). */
  newKeyLagMs: (location: string) => number;
  /** Full rescan of the primary (the safety net; writes followed by a purge are seen at once). */
  scanMs: number;
}

export interface ReplicatorStats {
  writesSeen: number;
  copiesApplied: number;
  /** Copies overtaken by a newer write of the same key before they landed (KV: last write wins). */
  copiesSuperseded: number;
  lagsDrawnMs: number[];
}

/**
 * Copies the primary KV to each replica after a lag: a location keeps serving the value it had
 * (Workers KV: a location's cached copy stays until its cacheTtl lapses) until the copy lands.
 * Writes are noticed by rescanning the primary every `scanMs` and, at once, when the origin's zone
 * purge names a key (the drain purges right after its KV writes, docs/kv-layout.md "Write order").
 */
export class KvReplicator {
  private readonly seen = new Map<string, Uint8Array>();
  /** Snapshot name → its copies to the replicas that never held it (for purges to wait on). */
  private readonly copies = new Map<string, Promise<void>>();
  /** Per replica and key: the sequence number of the newest write applied there. */
  private readonly applied = new Map<string, Map<string, number>>();
  private readonly present = new Map<string, Set<string>>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private seq = 0;
  private scanning: Promise<void> | null = null;
  private rescan: Promise<void> | null = null;
  private scanTimer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;
  readonly stats: ReplicatorStats = { writesSeen: 0, copiesApplied: 0, copiesSuperseded: 0, lagsDrawnMs: [] };
  /** Replication failures (a replica's put that threw), kept for the section's notes. */
  readonly errors: string[] = [];

  constructor(
    private readonly primary: KvStore,
    private readonly replicas: readonly ReplicaTarget[],
    private readonly options: ReplicatorOptions,
  ) {
    for (const r of replicas) {
      this.applied.set(r.name, new Map());
      this.present.set(r.name, new Set());
    }
  }

  start(): void {
    this.scanTimer = setInterval(() => void this.scan(), this.options.scanMs);
  }

  /**
   * Rescans the primary now (called when a purge names keys that were just written). A scan
   * already under way may have listed the keys before those writes, so a call during one queues
   * one more scan after it rather than joining it.
   */
  scan(): Promise<void> {
    if (this.scanning) {
      this.rescan ??= this.scanning.then(() => {
        this.rescan = null;
        return this.scan();
      });
      return this.rescan;
    }
    this.scanning = this.scanOnce().finally(() => {
      this.scanning = null;
    });
    return this.scanning;
  }

  private async listAll(): Promise<string[]> {
    const names: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      const listed = await this.primary.list(cursor ? { cursor } : {});
      names.push(...listed.keys.map((k) => k.name));
      if (listed.list_complete || !listed.cursor) break;
      cursor = listed.cursor;
    }
    return names;
  }

  private async scanOnce(): Promise<void> {
    if (this.stopped) return;
    try {
      for (const name of await this.listAll()) await this.consider(name);
    } catch (error) {
      if (!this.stopped) this.errors.push(`scan: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * The keys a purge names, at once and ahead of the full scan: their snapshots (new keys, which
   * a location that never read them fetches from KV's central store, so they are visible there at
   * once) and their head. Without this the copy of a new snapshot could land after the purge's
   * delivery and the edge would find the head's snapshot missing — an artefact of the model.
   */
  async noteKeys(keys: readonly string[]): Promise<void> {
    try {
      for (const key of keys) {
        const listed = await this.primary.list({ prefix: `snap/${key}/` });
        for (const { name } of listed.keys) await this.consider(name);
        // The head lags (it is an overwrite): not awaited.
        void this.consider(`head/${key}`);
      }
    } catch (error) {
      if (!this.stopped) this.errors.push(`note: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Copies `name` if it changed; resolves when its copies to replicas that never held it landed. */
  private async consider(name: string): Promise<void> {
    if (this.stopped) return;
    // Snapshots are immutable (docs/kv-layout.md): once copied, never read again (but a caller
    // may wait on a copy a concurrent scan started).
    if (name.startsWith("snap/") && this.seen.has(name)) return this.copies.get(name);
    const value = await this.primary.get(name, "arrayBuffer");
    if (value === null) return;
    const bytes = new Uint8Array(value);
    const before = this.seen.get(name);
    if (before && Buffer.from(before).equals(Buffer.from(bytes))) return;
    this.seen.set(name, bytes);
    const copied = this.schedule(name, value);
    if (name.startsWith("snap/")) this.copies.set(name, copied);
    await copied;
  }

  /** Schedules the copies; resolves when the copies of a key new to a replica have landed. */
  private schedule(name: string, value: ArrayBuffer): Promise<void> {
    const seq = ++this.seq;
    this.stats.writesSeen++;
    const newCopies: Promise<void>[] = [];
    for (const replica of this.replicas) {
      const isNew = !this.present.get(replica.name)?.has(name);
      const lag = isNew ? this.options.newKeyLagMs(replica.name) : this.options.lagMs(replica.name);
      if (!isNew) this.stats.lagsDrawnMs.push(Math.round(lag));
      const copied = new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          void this.apply(replica, name, value, seq).finally(resolve);
        }, lag);
        this.timers.add(timer);
      });
      if (isNew) newCopies.push(copied);
    }
    return Promise.all(newCopies).then(() => {});
  }

  private async apply(replica: ReplicaTarget, name: string, value: ArrayBuffer, seq: number): Promise<void> {
    if (this.stopped) return;
    const applied = this.applied.get(replica.name) as Map<string, number>;
    if ((applied.get(name) ?? 0) > seq) {
      this.stats.copiesSuperseded++;
      return;
    }
    applied.set(name, seq);
    try {
      await replica.kv.put(name, value);
      this.present.get(replica.name)?.add(name);
      this.stats.copiesApplied++;
    } catch (error) {
      if (!this.stopped)
        this.errors.push(
          `${replica.name} ${name}: ${error instanceof Error ? error.message : String(error)}`,
        );
    }
  }

  /** Pending copies, for the section to wait on between rounds. */
  pending(): number {
    return this.timers.size;
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.scanTimer);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

// ---------------------------------------------------------------------------------------------
// Zone purge by tag

/** Where the fake API delivers a purge: one location's edges (the Cache API tier only). */
export interface PurgeTarget {
  location: string;
  purgeCache(keys: string[], namespaces: string[]): Promise<number>;
}

export interface ZonePurgeRecord {
  receivedAt: number;
  tags: string[];
  /** Per location: HTTP status of its edges' purge, and when it was delivered. */
  deliveries: Array<{ location: string; status: number; at: number }>;
  /** How long the deliveries waited past the purge delay for the model's own snapshot copies. */
  heldForCopyMs: number;
}

/**
 * A stand-in for Cloudflare's `POST /zones/{zone_id}/purge_cache` (purge by Cache-Tag), the one
 * outside service of the model: it checks the Bearer token, accepts `{"tags": [...]}` (at most 100
 * tags per call as the purge docs say of tag purges), answers with the API's envelope
 * (`{"success": true, "errors": [], "messages": [], "result": {"id": …}}`), then after `delayMs`
 * (Cloudflare: Instant Purge by tag < 150 ms p50 to every location, docs/benchmarks.md) purges the
 * Cache API of every location. Errors answer `success: false` with an `errors` list, as the API does.
 */
export class FakeZonePurgeApi {
  readonly records: ZonePurgeRecord[] = [];
  private server: Server | undefined;
  private stopped = false;
  url = "";

  constructor(
    readonly zoneId: string,
    readonly apiToken: string,
    private readonly targets: () => readonly PurgeTarget[],
    private readonly delayMs: () => number,
    /**
     * Told of every accepted purge; resolves once the model has copied the new snapshots of the
     * purged keys to every replica. In production those are visible at once (a location that never
     * read a key reads KV's central store), so delivery waits for that copy, never less than the
     * delay: otherwise the model's copy time would show up as a missing snapshot at the edge.
     */
    private readonly onPurge: (tags: string[]) => Promise<void>,
  ) {}

  async start(): Promise<void> {
    const port = await allocatePort();
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(port, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${port}/client/v4`;
  }

  private reply(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { "Content-Type": "application/json" });
    res.end(JSON.stringify(body));
  }

  private fail(res: ServerResponse, status: number, code: number, message: string): void {
    this.reply(res, status, { success: false, errors: [{ code, message }], messages: [], result: null });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = `/client/v4/zones/${this.zoneId}/purge_cache`;
    if (req.method !== "POST" || req.url !== path) return this.fail(res, 404, 7003, "No route for that URI");
    if (req.headers.authorization !== `Bearer ${this.apiToken}`)
      return this.fail(res, 403, 10000, "Authentication error");
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let tags: unknown;
    try {
      tags = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { tags?: unknown }).tags;
    } catch {
      return this.fail(res, 400, 1012, "Request must be valid JSON");
    }
    if (!Array.isArray(tags) || tags.length === 0 || tags.some((t) => typeof t !== "string"))
      return this.fail(res, 400, 1015, "tags must be a non-empty array of strings");
    if (tags.length > 100) return this.fail(res, 400, 1016, "At most 100 tags per request");
    const record: ZonePurgeRecord = {
      receivedAt: performance.now(),
      tags: tags as string[],
      deliveries: [],
      heldForCopyMs: 0,
    };
    this.records.push(record);
    const delayMs = this.delayMs();
    const copied = this.onPurge(record.tags)
      .catch(() => {})
      .then(() => {
        record.heldForCopyMs = Math.max(0, Math.round(performance.now() - record.receivedAt - delayMs));
      });
    const keys = record.tags.filter((t) => t.startsWith("fc:key:")).map((t) => t.slice("fc:key:".length));
    const namespaces = record.tags.filter((t) => t.startsWith("fc:ns:")).map((t) => t.slice("fc:ns:".length));
    void Promise.all([new Promise((resolve) => setTimeout(resolve, delayMs)), copied]).then(() => {
      if (this.stopped) return;
      for (const target of this.targets()) {
        void target.purgeCache(keys, namespaces).then(
          (status) => record.deliveries.push({ location: target.location, status, at: performance.now() }),
          () => record.deliveries.push({ location: target.location, status: 0, at: performance.now() }),
        );
      }
    });
    this.reply(res, 200, {
      success: true,
      errors: [],
      messages: [],
      result: { id: randomBytes(16).toString("hex") },
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

// ---------------------------------------------------------------------------------------------
// The stacks

export interface ModelLocation {
  spec: LocationSpec;
  /** Edge base URL per design. */
  urls: Record<Design, string>;
  stack: MiniflareStack;
}

export interface LocationsModel {
  origin: { url: string; stack: MiniflareStack };
  locations: ModelLocation[];
  zone: FakeZonePurgeApi;
  replicator: KvReplicator;
  /** Requests the delay proxies carried edge → origin, per location. */
  proxied: Map<string, number>;
  stop(): Promise<void>;
}

export interface ModelOptions {
  locations: readonly LocationSpec[];
  rng: Rng;
  /** Upper bound of the uniform lag of an overwrite at a replica. */
  lagMaxMs: number;
  newKeyLagMs: number;
  purgeDelayMs: number;
  scanMs: number;
  /** The new design's isolate revalidation interval (unset: the edge's default). */
  headRevalidateMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A service binding that forwards to the origin after half the RTT and answers after the other half. */
function delayProxy(originUrl: string, rttMs: number, count: () => void) {
  return async (request: Request): Promise<Response> => {
    count();
    const url = new URL(request.url);
    const body =
      request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer();
    await sleep(rttMs / 2);
    const res = await fetch(`${originUrl}${url.pathname}${url.search}`, {
      method: request.method,
      headers: request.headers,
      ...(body ? { body } : {}),
      signal: AbortSignal.timeout(60_000),
    });
    const bytes = await res.arrayBuffer();
    await sleep(rttMs / 2);
    return new Response(res.status === 204 || res.status === 304 ? null : bytes, {
      status: res.status,
      headers: res.headers,
    });
  };
}

export async function startLocationsModel(
  ctx: BenchContext,
  options: ModelOptions,
  /** Worker output, with where it came from ("origin" or the location's name). */
  logSink: (chunk: string, source: string) => void,
): Promise<LocationsModel> {
  const build = join(REPO_ROOT, ".build", "bench");
  const root = ctx.sourceRoot;
  const edgeScript = bundleWorker("worker/index.ts", join(build, "loc-edge.js"), root);
  const originScript = bundleWorker("origin/index.ts", join(build, "loc-origin.js"), root);
  const { workerOptions } = unstable_getMiniflareWorkerOptions(join(root, "origin", "wrangler.toml"));
  const vars = Object.fromEntries(
    Object.entries(workerOptions.bindings ?? {}).filter(
      (e): e is [string, string] => typeof e[1] === "string",
    ),
  );
  const locations: ModelLocation[] = [];
  const proxied = new Map<string, number>();
  const stacks: MiniflareStack[] = [];
  let replicator: KvReplicator | undefined;
  const zone = new FakeZonePurgeApi(
    "0123456789abcdef0123456789abcdef",
    randomBytes(20).toString("hex"),
    () =>
      locations.map((loc) => ({
        location: loc.spec.name,
        purgeCache: (keys, namespaces) => purgeLocationCache(loc, ctx.secrets.PURGE_SECRET, keys, namespaces),
      })),
    () => options.purgeDelayMs,
    async (tags) => {
      const keys = tags.filter((t) => t.startsWith("fc:key:")).map((t) => t.slice("fc:key:".length));
      await replicator?.noteKeys(keys);
      void replicator?.scan();
    },
  );
  await zone.start();
  try {
    const origin = await startMiniflare(
      [
        {
          name: "fleetconf-origin",
          scriptPath: originScript,
          kv: true,
          bindings: {
            ...vars,
            ...ctx.secrets,
            PURGE_MODE: "zone",
            PURGE_ZONE_ID: zone.zoneId,
            PURGE_API_TOKEN: zone.apiToken,
            PURGE_API_BASE: zone.url,
          },
          // No EDGE binding: in zone mode the origin reaches the edges only through the purge API.
          extra: { durableObjects: workerOptions.durableObjects ?? {} },
        },
      ],
      ctx.dir("locations/origin"),
      (chunk) => logSink(chunk, "origin"),
    );
    stacks.push(origin);
    const originUrl = origin.urls["fleetconf-origin"] as string;
    // The edge as wrangler.toml configures it (HEAD_REVALIDATE_MS, MAX_WAITERS, …), then the model's own.
    const edgeVars = Object.fromEntries(
      Object.entries(
        unstable_getMiniflareWorkerOptions(join(root, "wrangler.toml")).workerOptions.bindings ?? {},
      ).filter((e): e is [string, string] => typeof e[1] === "string"),
    );
    const edgeBindings = {
      ...edgeVars,
      PUBLIC_JWKS: ctx.secrets.PUBLIC_JWKS,
      PURGE_SECRET: ctx.secrets.PURGE_SECRET,
      BUILD_VERSION: "bench",
      ...(options.headRevalidateMs !== undefined
        ? { HEAD_REVALIDATE_MS: String(options.headRevalidateMs) }
        : {}),
    };
    const started = await Promise.all(
      options.locations.map(async (spec, i) => {
        proxied.set(spec.name, 0);
        const proxy = delayProxy(originUrl, spec.rttMs, () =>
          proxied.set(spec.name, (proxied.get(spec.name) ?? 0) + 1),
        );
        const stack = await startMiniflare(
          DESIGNS.map((design) => ({
            name: workerName(design),
            scriptPath: edgeScript,
            kv: true,
            bindings: {
              ...edgeBindings,
              HEAD_SOURCE: design,
              // Distinct synthetic cache URLs: the two designs never read each other's Cache API entries.
              CACHE_URL_BASE: `https://fleetconf-${design}.cache`,
            },
            extra: { serviceBindings: { ORIGIN: proxy } },
          })),
          ctx.dir(`locations/loc${i}`),
          (chunk) => logSink(chunk, spec.name),
        );
        stacks.push(stack);
        return {
          spec,
          stack,
          urls: {
            kv: stack.urls[workerName("kv")] as string,
            origin: stack.urls[workerName("origin")] as string,
          },
        } satisfies ModelLocation;
      }),
    );
    locations.push(...started);
    const primary = (await origin.kv("fleetconf-origin")) as unknown as KvStore;
    const replicas: ReplicaTarget[] = await Promise.all(
      locations.map(async (loc) => ({
        name: loc.spec.name,
        kv: (await loc.stack.kv(workerName("kv"))) as unknown as KvStore,
      })),
    );
    replicator = new KvReplicator(primary, replicas, {
      lagMs: () => options.rng() * options.lagMaxMs,
      newKeyLagMs: () => options.newKeyLagMs,
      scanMs: options.scanMs,
    });
    const rep = replicator;
    return {
      origin: { url: originUrl, stack: origin },
      locations,
      zone,
      replicator: rep,
      proxied,
      stop: async () => {
        rep.stop();
        await zone.stop();
        await Promise.allSettled(stacks.map((s) => s.dispose()));
      },
    };
  } catch (error) {
    replicator?.stop();
    await zone.stop();
    await Promise.allSettled(stacks.map((s) => s.dispose()));
    throw error;
  }
}

/**
 * What a zone purge by tag does at one location: clears the Cache API entries of both edges
 * (`tiers: ["cache"]`), never isolate memory. Returns the worst status of the two.
 */
async function purgeLocationCache(
  loc: ModelLocation,
  secret: string,
  keys: string[],
  namespaces: string[],
): Promise<number> {
  const statuses = await Promise.all(
    DESIGNS.map(async (design) => {
      const res = await fetch(`${loc.urls[design]}/internal/purge`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Fleetconf-Purge-Secret": secret },
        body: JSON.stringify({ keys, namespaces, tiers: ["cache"] }),
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      return res.status;
    }),
  );
  return Math.max(...statuses);
}
