import type { ManagedProcess } from "./processes.mjs";

export const REPO_ROOT: string;
export const WRANGLER_BIN: string;
export const WORKERS: {
  readonly edge: { readonly name: "fleetconf-edge"; readonly config: "wrangler.toml" };
  readonly origin: { readonly name: "fleetconf-origin"; readonly config: "origin/wrangler.toml" };
};
export function wranglerEnv(extra?: Record<string, string>): NodeJS.ProcessEnv;
export function wranglerDevArgs(options: {
  config: string;
  port: number;
  inspectorPort: number;
  persistTo: string;
  envFile?: string;
  vars?: Record<string, string>;
}): string[];
export function lastBindingStatus(
  lines: readonly string[],
  binding: string,
  service: string,
): "connected" | "not connected" | undefined;
export function lastEdgeBindingStatus(lines: readonly string[]): "connected" | "not connected" | undefined;
export function bindingsConnected(edgeLines: readonly string[], originLines: readonly string[]): boolean;
export function waitForHealthy(
  url: string,
  options?: { proc?: ManagedProcess; timeoutMs?: number; intervalMs?: number; failFastMs?: number },
): Promise<void>;
export function startWranglerDev(options: {
  name: string;
  args: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  onLine?: (line: string) => void;
  onSpawn?: (proc: ManagedProcess) => void;
  healthUrl: string;
  timeoutMs?: number;
  attempts?: number;
}): Promise<ManagedProcess>;
