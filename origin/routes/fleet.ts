/**
 * `GET /v1/configs/{key}/-/fleet?window=300` (read scope): which versions the clients seen polling
 * the key at the edge in the last `window` seconds hold, and the share that has converged on the
 * version meant for them (core/fleet.ts; during a rollout, per cohort).
 */
import { createRoute, z } from "@hono/zod-openapi";
import {
  annotate,
  DEFAULT_FLEET_WINDOW_SECONDS,
  FleetconfError,
  type FleetExpectation,
  MAX_FLEET_WINDOW_SECONDS,
} from "../../core";
import { FleetDocument } from "../contract";
import { CONFIGS, KeyParams } from "../http/config-params";
import { declaredRoutes, KEY, optionalParsedBy, problems } from "../http/declared-routes";
import { fleetShards } from "../http/ops-stores";
import { unwrap } from "../http/store-call";
import { keyScope } from "../middleware/admin-auth";
import { fleetViewAcross } from "../store/fleet-shards";
import { rolloutHeadOf } from "../store/rollout-tables";

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

const fleetRoute = createRoute({
  method: "get",
  path: `${CONFIGS}/${KEY}/-/fleet`,
  summary: "Which versions the clients polling a key hold, and the share converged",
  middleware: [keyScope("read")] as const,
  request: {
    params: KeyParams,
    query: z.object({
      window: optionalParsedBy(parseWindow).openapi({
        description: `Seconds to look back, 1 to ${MAX_FLEET_WINDOW_SECONDS} (default ${DEFAULT_FLEET_WINDOW_SECONDS}).`,
      }),
    }),
  },
  responses: {
    200: { description: "The fleet view.", content: { "application/json": { schema: FleetDocument } } },
    ...problems(404),
  },
});

export function fleetRoutes() {
  return declaredRoutes().openapi(fleetRoute, async (c) => {
    const { key, namespace } = c.req.valid("param").key;
    annotate(c, { key, view: "fleet" });
    const { window } = c.req.valid("query");
    const state = unwrap(await c.get("services").store(namespace).rolloutStatus(key));
    const running = state.rollout !== null && state.rollout.endedAt === null && state.candidate !== null;
    const expectation: FleetExpectation = {
      key,
      current: state.live.version,
      rollout:
        running && state.rollout && state.candidate ? rolloutHeadOf(state.rollout, state.candidate) : null,
    };
    const now = Date.now();
    const view = await fleetViewAcross(fleetShards(c.env, namespace), expectation, now - window * 1000, now);
    c.header("Cache-Control", "no-store");
    return c.json(
      {
        key,
        window,
        clients: view.clients,
        versions: view.versions,
        current: expectation.current,
        converged: view.converged,
        rollout: view.rollout,
        locations: view.locations,
        at: new Date(now).toISOString(),
      },
      200,
    );
  });
}
