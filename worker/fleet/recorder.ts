/**
 * The edge's side of the fleet view (docs/operations.md, "Fleet view"): which client was served
 * which version of which key, kept per isolate as the last sighting per (key, client) in a bounded
 * Map and flushed to the origin in batches at most every `flushIntervalMs`, from `ctx.waitUntil`.
 * Recording is one Map set and never awaits: a full table drops (and counts) new clients rather
 * than grow, and a failed batch is lost rather than retried, since the next polls re-report.
 * A sighting carries the client's `Config-Client-Status` (core/client-status.ts) when it sent one,
 * and the version it was served before, so the origin can tell a report on a version this
 * client was served from one on a version it never was.
 */
import {
  type ClientStatus,
  type FleetBatch,
  type FleetSighting,
  MAX_FLEET_BATCH,
  mergeClientStatus,
} from "../../core";

export interface FleetRecorderOptions {
  /** Distinct (key, client) entries held between flushes; past it, new ones are dropped. */
  maxEntries: number;
  flushIntervalMs: number;
  /** Sightings per batch (at most core's MAX_FLEET_BATCH). */
  maxBatch: number;
  /** Batches sent per flush; what does not fit waits for the next flush. */
  maxBatchesPerFlush: number;
}

export const DEFAULT_FLEET_OPTIONS: FleetRecorderOptions = {
  maxEntries: 50_000,
  flushIntervalMs: 2000,
  maxBatch: MAX_FLEET_BATCH,
  maxBatchesPerFlush: 4,
};

/** Delivers one batch; rejects when the origin did not take it. */
export type FleetSink = (batch: FleetBatch) => Promise<void>;

export interface FleetCounters {
  recorded: number;
  /** `Config-Client-Status` headers that were not a valid status (ignored; the read is served). */
  statusMalformed: number;
  dropped: number;
  batchesSent: number;
  batchesFailed: number;
}

export class FleetRecorder {
  readonly options: FleetRecorderOptions;
  readonly counters: FleetCounters = {
    recorded: 0,
    statusMalformed: 0,
    dropped: 0,
    batchesSent: 0,
    batchesFailed: 0,
  };
  readonly #pending = new Map<string, FleetSighting>();
  /** Drops not yet reported to the origin (sent with the next batch). */
  #unreportedDrops = 0;
  /** Start of the current interval: the first sighting after a flush, so a lone poll waits too. */
  #intervalStart: number | null = null;

  constructor(options: Partial<FleetRecorderOptions> = {}) {
    this.options = { ...DEFAULT_FLEET_OPTIONS, ...options };
    this.options.maxBatch = Math.min(this.options.maxBatch, MAX_FLEET_BATCH);
  }

  get pending(): number {
    return this.#pending.size;
  }

  /**
   * The hot path: remembers the sighting, replacing the client's previous one for the key. A
   * status (from `Config-Client-Status`) is kept until a newer one replaces it, so a report rides
   * on whichever batch follows it; an older report recorded later changes nothing.
   */
  record(
    key: string,
    version: number,
    clientId: string,
    colo: string | null,
    nowMs: number,
    status: ClientStatus | null = null,
    subject: string | null = null,
    continent: string | null = null,
  ): void {
    const id = `${key}\u0000${clientId}`;
    const held = this.#pending.get(id);
    if (held !== undefined) {
      // A client polling again within the interval: update its sighting in place, no allocation.
      if (held.version !== version) held.previous = held.version;
      held.version = version;
      held.seenAt = nowMs;
      held.colo = colo;
      held.continent = continent;
      held.subject = subject;
      if (status !== null) {
        // Not simply replaced: a request the client gave up may be recorded after its
        // replacement, with the older report (core mergeClientStatus).
        const merged = mergeClientStatus(
          { applied: held.applied ?? null, rejected: held.rejected ?? null, reason: held.reason ?? null },
          status,
        );
        held.applied = merged.applied;
        held.rejected = merged.rejected;
        held.reason = merged.reason;
      }
    } else if (this.#pending.size >= this.options.maxEntries) {
      this.counters.dropped++;
      this.#unreportedDrops++;
      return;
    } else {
      this.#pending.set(id, {
        key,
        version,
        clientId,
        seenAt: nowMs,
        colo,
        continent,
        previous: null,
        applied: status?.applied ?? null,
        rejected: status?.rejected ?? null,
        reason: status?.reason ?? null,
        subject,
      });
    }
    this.counters.recorded++;
    this.#intervalStart ??= nowMs;
  }

  /** When the pending sightings are due (ms), or null when nothing is pending. */
  get dueAt(): number | null {
    return this.#intervalStart === null ? null : this.#intervalStart + this.options.flushIntervalMs;
  }

  /** Whether a flush is due: something pending and the interval over. */
  due(nowMs: number): boolean {
    return (
      this.#pending.size > 0 &&
      this.#intervalStart !== null &&
      nowMs - this.#intervalStart >= this.options.flushIntervalMs
    );
  }

  /** Takes what is due out of the table as batches (empty when nothing is due). */
  takeBatches(nowMs: number): FleetBatch[] {
    if (!this.due(nowMs)) return [];
    const batches: FleetBatch[] = [];
    let current: FleetSighting[] = [];
    for (const [id, sighting] of this.#pending) {
      if (current.length === this.options.maxBatch) {
        batches.push({ sightings: current, dropped: 0 });
        if (batches.length === this.options.maxBatchesPerFlush) break;
        current = [];
      }
      current.push(sighting);
      this.#pending.delete(id);
    }
    if (current.length > 0 && batches.length < this.options.maxBatchesPerFlush)
      batches.push({ sightings: current, dropped: 0 });
    const first = batches[0];
    if (first) first.dropped = this.#unreportedDrops;
    this.#unreportedDrops = 0;
    // Leftovers (more than a flush carries) start the next interval now.
    this.#intervalStart = this.#pending.size > 0 ? nowMs : null;
    return batches;
  }

  /** Sends what is due through `sink`; null when nothing is due (the caller skips waitUntil). */
  flush(sink: FleetSink, nowMs: number): Promise<void> | null {
    const batches = this.takeBatches(nowMs);
    if (batches.length === 0) return null;
    return Promise.all(
      batches.map((batch) =>
        sink(batch).then(
          () => {
            this.counters.batchesSent++;
          },
          () => {
            this.counters.batchesFailed++;
          },
        ),
      ),
    ).then(() => undefined);
  }
}

/** The origin's intake through the edge's `ORIGIN` service binding, authenticated by PURGE_SECRET. */
export function originFleetSink(origin: Fetcher, secret: string): FleetSink {
  return async (batch) => {
    const response = await origin.fetch("https://origin.internal/internal/fleet", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Fleetconf-Purge-Secret": secret },
      body: JSON.stringify(batch),
    });
    // The body is not needed; cancel it so the connection is released.
    await response.body?.cancel();
    if (!response.ok) throw new Error(`origin answered ${response.status}`);
  };
}
