/**
 * `GET /v1/configs/{key}/fleet?window=300` (read scope): which versions the clients seen polling
 * the key at the edge in the last `window` seconds hold, and the share that has converged on the
 * version meant for them (core/fleet.ts; during a rollout, per cohort). Mounted before the config
 * routes: like `…/versions`, `…/fleet` names the view when the path before it is a valid key, so
 * a key whose last segment is `fleet` is read through `?version=` or the edge (docs/operations.md).
 */
import { type Context, Hono, type Next } from "hono";
import {
  annotate,
  DEFAULT_FLEET_WINDOW_SECONDS,
  FleetconfError,
  type FleetExpectation,
  MAX_FLEET_WINDOW_SECONDS,
  parseKey,
  requireKey,
} from "../../core";
import type { OriginApp } from "../app-env";
import { rawConfigPath } from "../http/config-path";
import { unwrap } from "../http/store-call";
import { requireScope } from "../middleware/admin-auth";
import { fleetViewAcross } from "../store/fleet-shards";
import { rolloutHeadOf } from "../store/rollout-tables";

export function fleetRoutes(): Hono<OriginApp> {
  const routes = new Hono<OriginApp>();
  routes.get("/*", readFleet);
  return routes;
}

/** `window`: whole seconds, 1 to 86400 (the sightings' retention). */
export function parseWindow(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_FLEET_WINDOW_SECONDS;
  const seconds = /^[0-9]{1,6}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(seconds >= 1 && seconds <= MAX_FLEET_WINDOW_SECONDS)) {
    throw new FleetconfError(
      "invalid_request",
      `window must be whole seconds from 1 to ${MAX_FLEET_WINDOW_SECONDS}.`,
    );
  }
  return seconds;
}

async function readFleet(c: Context<OriginApp>, next: Next): Promise<Response | undefined> {
  const match = /^(.+)\/fleet$/.exec(rawConfigPath(c.req.url));
  if (!match?.[1] || !parseKey(match[1]).ok) {
    await next();
    return undefined;
  }
  const { key, namespace } = requireKey(match[1]);
  annotate(c, { key, view: "fleet" });
  requireScope(c, { action: "read", namespace });
  const window = parseWindow(c.req.query("window"));
  const state = unwrap(await c.get("services").store(namespace).rolloutStatus(key));
  const running = state.rollout !== null && state.rollout.endedAt === null && state.candidate !== null;
  const expectation: FleetExpectation = {
    key,
    current: state.live.version,
    rollout:
      running && state.rollout && state.candidate ? rolloutHeadOf(state.rollout, state.candidate) : null,
  };
  const now = Date.now();
  const view = await fleetViewAcross(c.env, namespace, expectation, now - window * 1000, now);
  c.header("Cache-Control", "no-store");
  return c.json({
    key,
    window,
    clients: view.clients,
    versions: view.versions,
    current: expectation.current,
    converged: view.converged,
    rollout: view.rollout,
    locations: view.locations,
    at: new Date(now).toISOString(),
  });
}
