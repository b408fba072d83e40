/**
 * When drains run: at once after every commit, one at a time (single flight), and on failure
 * again by Durable Object alarm with exponential backoff (1 s, 2 s, 4 s … 5 min) until the outbox
 * is empty. The consecutive-failure count lives in SQLite so backoff survives eviction.
 */
import { logLine } from "../../core";
import { readMeta, recordFailure, writeMeta } from "../store/tables";
import { type DistributionDeps, type DrainReport, drainOutbox } from "./drain";
import { alarmNoLaterThan } from "./freshness-clock";

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 5 * 60 * 1000;

/** Delay before drain retry number `failures` (1-based): 1 s, 2 s, 4 s … capped at 5 min. */
export function retryDelayMs(failures: number): number {
  return Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, failures - 1), MAX_RETRY_MS);
}

export class DrainScheduler {
  private draining: Promise<void> | null = null;
  private wanted = false;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly deps: () => Promise<DistributionDeps>,
    /** Runs after every successful drain (the NamespaceStore arms its freshness alarm here). */
    private readonly afterSuccess: () => Promise<void> = async () => {},
  ) {}

  /**
   * Resolves when a drain that started after this call has finished (successfully or not). A call
   * during a run makes that run go round once more, so a change committed mid-run is never left
   * behind; `draining` is cleared synchronously as the loop ends, so a call arriving after the
   * loop's last check always starts a new run.
   */
  request(): Promise<void> {
    this.wanted = true;
    this.draining ??= this.run();
    return this.draining;
  }

  /** Makes sure an alarm is set when work is left over (after an eviction cut a drain short). */
  async ensureAlarm(): Promise<void> {
    if ((await this.storage.getAlarm()) === null) await this.storage.setAlarm(Date.now() + FIRST_RETRY_MS);
  }

  private async run(): Promise<void> {
    try {
      while (this.wanted) {
        this.wanted = false;
        const started = Date.now();
        const report = await this.once();
        const durationMs = Date.now() - started;
        const sql = this.storage.sql;
        if (report.ok) {
          writeMeta(sql, "drain_failures", "0");
          if (report.keys.length > 0 || report.namespaces.length > 0) {
            logLine({ part: "origin", event: "distributed", ...report, durationMs });
          }
          await this.afterSuccess();
          continue;
        }
        const failures = Number(readMeta(sql, "drain_failures") ?? "0") + 1;
        const retryInMs = retryDelayMs(failures);
        writeMeta(sql, "drain_failures", String(failures));
        recordFailure(sql, report.error);
        // Never later than an alarm already set (a freshness re-sign due sooner, freshness-clock.ts).
        await alarmNoLaterThan(this.storage, Date.now() + retryInMs);
        logLine({
          part: "origin",
          event: "distribution_failed",
          level: "warn",
          error: report.error,
          durationMs,
          failures,
          retryInMs,
        });
        return;
      }
    } finally {
      this.draining = null;
    }
  }

  private async once(): Promise<DrainReport> {
    try {
      return await drainOutbox(this.storage.sql, await this.deps());
    } catch (error) {
      // Building the dependencies failed (configuration): a failure like any other, retried later.
      return { ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
    }
  }
}
