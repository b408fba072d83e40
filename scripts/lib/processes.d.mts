export function sleep(ms: number): Promise<void>;
export function freePort(host?: string): Promise<number>;
export function freePorts(count: number, host?: string): Promise<number[]>;
export function portIsFree(port: number, host?: string): Promise<boolean>;
export function groupMembers(pgid: number): number[];

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** Output lines so far (the last 20k), stdout and stderr interleaved. */
  readonly lines: string[];
  /** Resolves with the exit code, the signal name, or `error: …` when spawning failed. */
  readonly exited: Promise<number | string>;
  hasExited(): boolean;
  exitState(): number | string | undefined;
  /** SIGTERM the group, SIGKILL it after `graceMs` (default 5 s), wait until no member is left. */
  stop(graceMs?: number): Promise<void>;
}

export function startProcess(
  name: string,
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; onLine?: (line: string) => void },
): ManagedProcess;

/** On SIGINT/SIGTERM/SIGHUP: SIGKILL every group started here, then exit (128 + signal). */
export function stopChildrenOnSignals(): void;
/** Removes `dir` if this process exits or dies (watchdog) before `releaseTempDir(dir)`. */
export function registerTempDir(dir: string): void;
export function releaseTempDir(dir: string): void;
