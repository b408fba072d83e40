/**
 * Per-isolate telemetry, called by the edge middleware once the response is built: counts it
 * (metrics/counters.ts), records a config answer to a client that sent `Config-Client-Id` for the
 * fleet view (fleet/recorder.ts), and piggybacks on the request to flush sightings (in
 * `ctx.waitUntil`, never awaited) and to log the metrics line when their intervals are over. Nothing here awaits I/O on the request's path.
 *
 * Only answers with the current version are recorded: a `?version=N` read is a client fetching
 * history (or a bundle member), not the version it runs, and would otherwise skew the view.
 * The first sighting of an interval also arms a timer in `ctx.waitUntil` that flushes when the
 * interval ends, so the last batch leaves the isolate without waiting for a later request (an
 * idle fleet's view is at most about `flushIntervalMs` behind; docs/operations.md).
 */
import type { Context } from "hono";
import { CLIENT_STATUS_HEADER, parseClientStatus, rawPath } from "../../core";
import type { EdgeHonoEnv } from "../app-env";
import type { EdgeEnv } from "../env";
import { FleetRecorder, type FleetRecorderOptions, type FleetSink, originFleetSink } from "../fleet/recorder";
import { DEFAULT_METRICS_INTERVAL_MS, EdgeMetrics } from "./counters";

/** Past the interval's end, so the flush finds it due even with a millisecond of clock skew. */
const TIMER_SLACK_MS = 25;
/** A timer this late is taken as lost with its request (see armTimer). */
const TIMER_LOST_MS = 1000;

export interface TelemetryOptions {
  fleet?: Partial<FleetRecorderOptions>;
  /** Where batches go; the default is the origin through the `ORIGIN` binding (null: nowhere). */
  sink?: (env: EdgeEnv) => FleetSink | null;
  metricsIntervalMs?: number;
  /** Wall clock for sightings and intervals (tests step it); default Date.now. */
  now?: () => number;
  /** Flush on a timer when no later request comes (default true; tests stepping a clock turn it off). */
  flushTimer?: boolean;
  /** Called once with the isolate's recorder and metrics: lets tests observe them. */
  inspect?: (telemetry: { recorder: FleetRecorder; metrics: EdgeMetrics }) => void;
}

interface Telemetry {
  recorder: FleetRecorder;
  metrics: EdgeMetrics;
  /** Null when recording is off (FLEET_RECORDING=off) or there is nowhere to send sightings. */
  sink: FleetSink | null;
}

export interface TelemetryObserver {
  /** Once the response is ready: counts it, records the sighting, flushes when due. */
  observe(c: Context<EdgeHonoEnv>): void;
  /**
   * When a long-poll is parked: records the sighting (and its Config-Client-Status) now, not when
   * the hold ends up to a minute later, so a report rides on the long-poll without waiting it out.
   */
  recordHeld(c: Context<EdgeHonoEnv>, key: string, version: number): void;
}

export function telemetryObserver(options: TelemetryOptions = {}): TelemetryObserver {
  let state: Telemetry | undefined;
  const timerEnabled = options.flushTimer ?? true;
  let colo: string | undefined;
  let continent: string | undefined;
  const build = (env: EdgeEnv): Telemetry => {
    const recorder = new FleetRecorder({
      ...(positiveInt(env.FLEET_FLUSH_MS) === null
        ? {}
        : { flushIntervalMs: positiveInt(env.FLEET_FLUSH_MS) ?? 0 }),
      ...options.fleet,
    });
    const metrics = new EdgeMetrics(
      options.metricsIntervalMs ?? positiveInt(env.METRICS_INTERVAL_MS) ?? DEFAULT_METRICS_INTERVAL_MS,
    );
    const enabled = (env.FLEET_RECORDING ?? "on").trim().toLowerCase() !== "off";
    const sink = !enabled ? null : options.sink ? options.sink(env) : defaultSink(env);
    options.inspect?.({ recorder, metrics });
    return { recorder, metrics, sink };
  };
  /**
   * When the armed flush timer should fire (real clock), or null. A timer lives in one request's
   * waitUntil, which the runtime may cut short (a client giving up a held long-poll): one not
   * fired well past its time counts as lost, and the next request arms another.
   */
  let timerFiresAt: number | null = null;
  const timerArmed = (): boolean => timerFiresAt !== null && Date.now() < timerFiresAt + TIMER_LOST_MS;
  const armTimer = (c: Context<EdgeHonoEnv>, recorder: FleetRecorder, sink: FleetSink): void => {
    const dueAt = recorder.dueAt;
    if (timerArmed() || dueAt === null) return;
    const wait = Math.max(0, dueAt - (options.now ?? Date.now)()) + TIMER_SLACK_MS;
    const firesAt = Date.now() + wait;
    timerFiresAt = firesAt;
    c.executionCtx.waitUntil(
      new Promise<void>((resolve) => setTimeout(resolve, wait)).then(async () => {
        if (timerFiresAt === firesAt) timerFiresAt = null;
        // The timer runs on the real clock: take what is pending whatever a test's clock says.
        await (recorder.flush(sink, Math.max((options.now ?? Date.now)(), dueAt)) ?? undefined);
        // Leftovers past one flush's size: arm again from this same waitUntil chain.
        if (recorder.pending > 0) armTimer(c, recorder, sink);
      }),
    );
  };
  /** Records one current-version answer to a client with an id; parses its status once per request. */
  const recordSighting = (
    c: Context<EdgeHonoEnv>,
    recorder: FleetRecorder,
    key: string,
    version: number,
    now: number,
    withStatus = true,
  ) => {
    const target = c.get("target");
    const clientId = target.version === null ? target.clientId : null;
    if (clientId === null) return;
    // An isolate lives in one location: read `cf.colo` and `cf.continent` (a native object per
    // access) until known.
    if (colo === undefined || continent === undefined) {
      const cf = c.req.raw.cf;
      if (typeof cf?.colo === "string") colo = cf.colo;
      if (typeof cf?.continent === "string") continent = cf.continent;
    }
    let parsed = c.get("clientStatus");
    if (parsed === undefined) {
      const header = c.req.raw.headers.get(CLIENT_STATUS_HEADER);
      parsed = header === null ? null : parseClientStatus(header);
      // Malformed: ignored and counted (metrics line), never a failed read.
      if (header !== null && parsed === null) recorder.counters.statusMalformed++;
      c.set("clientStatus", parsed);
    }
    recorder.record(
      key,
      version,
      clientId,
      colo ?? null,
      now,
      withStatus ? parsed : null,
      c.get("readSubject") ?? null,
      continent ?? null,
    );
  };
  const flushIfDue = (c: Context<EdgeHonoEnv>, recorder: FleetRecorder, sink: FleetSink, now: number) => {
    const flushing = recorder.flush(sink, now);
    if (flushing) c.executionCtx.waitUntil(flushing);
    else if (recorder.pending > 0 && timerEnabled) armTimer(c, recorder, sink);
  };
  const recordHeld = (c: Context<EdgeHonoEnv>, key: string, version: number): void => {
    state ??= build(c.env);
    const { recorder, sink } = state;
    if (sink === null) return;
    const now = (options.now ?? Date.now)();
    recordSighting(c, recorder, key, version, now);
    c.set("heldRecorded", true);
    flushIfDue(c, recorder, sink, now);
  };
  function observe(c: Context<EdgeHonoEnv>): void {
    state ??= build(c.env);
    const { recorder, metrics, sink } = state;
    const now = (options.now ?? Date.now)();
    const served = c.get("served");
    // Only a POST can be a purge: reads never pay for parsing their URL here.
    metrics.count(c.res.status, c.req.method === "POST" ? rawPath(c.req.url) : null, served, now);
    if (sink !== null) {
      // A long-poll recorded when parked: its status is older than what the client may have sent
      // since (it gives up a hold to report), so only the version is updated — and nothing at
      // all when the client went away (a replacement request carries the news).
      const held = c.get("heldRecorded") === true;
      if (served && !(held && c.req.raw.signal.aborted)) {
        recordSighting(c, recorder, served.key, served.version, now, !held);
      }
      flushIfDue(c, recorder, sink, now);
    }
    if (metrics.due(now)) metrics.emitIfDue(now, { ...recorder.counters, pending: recorder.pending });
  }
  return { observe, recordHeld };
}

function defaultSink(env: EdgeEnv): FleetSink | null {
  if (!env.ORIGIN || !env.PURGE_SECRET) return null;
  return originFleetSink(env.ORIGIN, env.PURGE_SECRET);
}

function positiveInt(raw: string | undefined): number | null {
  const value = raw === undefined ? Number.NaN : Number(raw.trim());
  return Number.isSafeInteger(value) && value > 0 ? value : null;
}
