/**
 * Runs the agent's `--exec` hook after a change: through the shell, in its own process group,
 * with FLEETCONF_KEY, FLEETCONF_VERSION and FLEETCONF_FILE set. One hook runs at a time; changes
 * that land while it runs are coalesced into one more run for the newest version (a reload for
 * a version already replaced would be wasted work). Its output becomes log lines, so the agent's
 * stdout stays JSON lines.
 */
import { type ChildProcess, spawn } from "node:child_process";

export interface HookRun {
  key: string;
  version: number;
  file: string;
}

export type LogFn = (
  level: "info" | "warn" | "error",
  event: string,
  fields?: Record<string, unknown>,
) => void;

const MAX_LINE = 2000;

export class HookRunner {
  private running: Promise<void> | null = null;
  private child: ChildProcess | null = null;
  private pending: HookRun | null = null;
  /** Completed runs, for tests and the shutdown log. */
  runs = 0;

  constructor(
    private readonly command: string,
    private readonly log: LogFn,
    private readonly baseEnv: Record<string, string | undefined>,
    /** Told each run's result: exit 0 → applied, anything else → rejected (with why). */
    private readonly onResult?: (run: HookRun, ok: boolean, detail: string) => void,
  ) {}

  trigger(run: HookRun): void {
    this.pending = run;
    if (!this.running) this.running = this.drain();
  }

  /** Waits for the running and pending hooks; after `graceMs`, terminates the running one. */
  async idle(graceMs: number): Promise<void> {
    const running = this.running;
    if (!running) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), graceMs);
    });
    const outcome = await Promise.race([running.then(() => "done" as const), timedOut]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      this.pending = null;
      this.log("warn", "hook.killed", { reason: `still running ${graceMs} ms after shutdown began` });
      this.signalGroup("SIGTERM");
      await running;
    }
  }

  private async drain(): Promise<void> {
    while (this.pending) {
      const run = this.pending;
      this.pending = null;
      await this.execute(run);
    }
    this.running = null;
  }

  private execute(run: HookRun): Promise<void> {
    const started = Date.now();
    this.log("info", "hook.start", { key: run.key, version: run.version });
    return new Promise((resolve) => {
      const child = spawn(this.command, {
        shell: true,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        env: {
          ...this.baseEnv,
          FLEETCONF_KEY: run.key,
          FLEETCONF_VERSION: String(run.version),
          FLEETCONF_FILE: run.file,
        },
      });
      this.child = child;
      for (const [name, stream] of [
        ["stdout", child.stdout],
        ["stderr", child.stderr],
      ] as const) {
        let partial = "";
        stream?.setEncoding("utf8");
        stream?.on("data", (chunk: string) => {
          const lines = (partial + chunk).split("\n");
          partial = lines.pop() ?? "";
          for (const line of lines)
            this.log("info", "hook.output", { stream: name, line: line.slice(0, MAX_LINE) });
        });
        stream?.on("end", () => {
          if (partial) this.log("info", "hook.output", { stream: name, line: partial.slice(0, MAX_LINE) });
        });
      }
      child.once("error", (error) => {
        this.log("error", "hook.failed", { version: run.version, error: error.message });
        this.onResult?.(run, false, `hook failed: ${error.message}`);
      });
      child.once("close", (code, signal) => {
        this.child = null;
        this.runs++;
        const fields = {
          key: run.key,
          version: run.version,
          exitCode: code,
          signal,
          durationMs: Date.now() - started,
        };
        if (code === 0) this.log("info", "hook.done", fields);
        else this.log("error", "hook.failed", fields);
        this.onResult?.(run, code === 0, code === null ? `hook killed by ${signal}` : `hook exit ${code}`);
        resolve();
      });
    });
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is already gone.
    }
  }
}
