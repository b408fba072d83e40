/**
 * `publish --wait 95%`: polls the fleet view until the share of clients holding the version meant
 * for them reaches the target, drawing a progress bar (TTY) meanwhile; fails (exit 1) at the timeout.
 */

import type { AdminApi } from "./admin-api";
import { CliError, UsageError } from "./errors";
import { type FleetDocument, readFleet } from "./fleet-api";
import type { Output } from "./output";

export const DEFAULT_WAIT_TIMEOUT_SECONDS = 120;
const POLL_MS = 1000;

/** `95%`, `95` or `0.95` → 0.95. */
export function parseWaitTarget(raw: string, command: string): number {
  const match = /^([0-9]{1,3}(\.[0-9]{1,2})?)%?$/.exec(raw.trim());
  const value = match?.[1] === undefined ? Number.NaN : Number(match[1]);
  const share = raw.trim().endsWith("%") || value > 1 ? value / 100 : value;
  if (!(share > 0 && share <= 1)) throw new UsageError("--wait takes a share like 95% (1–100%)", command);
  return share;
}

export interface WaitOptions {
  key: string;
  version: number;
  target: number;
  timeoutSeconds: number;
  windowSeconds: number;
  signal?: AbortSignal;
  sleep?: (ms: number) => Promise<void>;
}

export async function waitForConvergence(
  api: AdminApi,
  out: Output,
  options: WaitOptions,
): Promise<FleetDocument> {
  const sleep = options.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  let last: FleetDocument | null = null;
  for (;;) {
    last = await readFleet(api, options.key, options.windowSeconds);
    // Another publish after ours moves `current` on; then "converged" no longer measures ours.
    const reached = last.current === options.version && last.clients > 0 && last.converged >= options.target;
    out.progress(progressLine(last, options.target));
    if (reached) {
      out.clearProgress();
      return last;
    }
    if (Date.now() >= deadline || options.signal?.aborted) break;
    await sleep(POLL_MS);
  }
  out.clearProgress();
  throw new CliError(
    `${options.key} v${options.version} reached ${(last.converged * 100).toFixed(1)}% of ${last.clients} clients, ` +
      `not ${(options.target * 100).toFixed(1)}%, within ${options.timeoutSeconds}s`,
    {
      code: "not_converged",
      hint: `see who lags with \`fleetconf fleet ${options.key}\`; clients poll at their own interval`,
    },
  );
}

function progressLine(view: FleetDocument, target: number): string {
  const width = 30;
  const filled = Math.round(view.converged * width);
  const bar = `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
  return `converging ${bar} ${(view.converged * 100).toFixed(1)}% of ${view.clients} clients (target ${(target * 100).toFixed(0)}%)`;
}
