/** The edge app's Hono environment: its bindings and the per-request variables handlers read. */
import type { ClientStatus, ConfigKey, RequestVariables } from "../core";
import type { SettingsEntry } from "./cache/entries";
import type { Lookup } from "./cache/tiered-store";
import type { EdgeEnv } from "./env";
import type { ServedConfig } from "./metrics/counters";
import type { EdgeServices } from "./services";

/** A config read request, parsed once at the boundary. */
export interface ConfigTarget {
  key: ConfigKey;
  /** `?version=N`, or null for the current version. */
  version: number | null;
  /** `Config-Client-Id`, or null when absent (used by rollout cohort selection). */
  clientId: string | null;
  /** `performance.now()` when the request reached the route, for Server-Timing. */
  startedAt: number;
}

export interface EdgeVariables extends RequestVariables {
  services: EdgeServices;
  target: ConfigTarget;
  /** The namespace's settings and which tier they came from. */
  namespaceSettings: Lookup<SettingsEntry>;
  /** Set by the config route once it answers with a version (counted and recorded by telemetry). */
  served?: ServedConfig;
  /** The verified read token's `sub` in a private namespace (recorded with the fleet sighting). */
  readSubject?: string;
  /** The request's parsed Config-Client-Status (null: none or malformed), once telemetry read it. */
  clientStatus?: ClientStatus | null;
  /** Records the sighting of a long-poll when it is parked (metrics/telemetry.ts). */
  recordHeld?: (key: string, version: number) => void;
  /** Set once a parked long-poll's sighting was recorded. */
  heldRecorded?: boolean;
}

export type EdgeHonoEnv = { Bindings: EdgeEnv; Variables: EdgeVariables };
