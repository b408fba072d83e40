/**
 * Staged rollouts over HTTP (docs/rollouts.md): the `Config-Rollout` header of a publish, and
 * `/v1/configs/{key}/-/rollout` — GET (state and the share now), PATCH `{"percent": n}` (hold the
 * share at n, never lower than now), POST `…/-/rollout/complete` and POST `…/-/rollout/abort`.
 * The old spellings without `/-/` of the PATCH and POSTs stay as deprecated aliases (keys take no
 * PATCH or POST, so they shadow none); GET `…/rollout` is a key's content now. Decisions that
 * depend on stored state are made by the namespace's Durable Object (origin/store/rollouts.ts).
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { annotate, FleetconfError, fullShareAt, logLine, parseRolloutHeader } from "../../core";
import type { OriginApp } from "../app-env";
import { RolloutAlarm, RolloutPatch, RolloutStatus, type RolloutStatusDocument } from "../contract";
import { strictJsonBody } from "../http/body";
import { CONFIGS, KeyParams, WriteHeaders } from "../http/config-params";
import { declaredRoutes, deprecatedAlias, KEY, problems } from "../http/declared-routes";
import { fleetShards } from "../http/ops-stores";
import { unwrap } from "../http/store-call";
import { keyScope } from "../middleware/admin-auth";
import { gateFiguresAcross } from "../store/fleet-shards";
import { rolloutHeadOf } from "../store/rollout-tables";
import { shareOf } from "../store/rollouts";
import type { Distribution, RolloutSpec, RolloutView, VersionRecord } from "../store/types";

const NO_STORE = "no-store";

/** `Config-Rollout: 30` or `linear; start=10; step=10; every=60` (core parseRolloutHeader), or null. */
export function parseRolloutValue(raw: string | undefined): RolloutSpec | null {
  if (raw === undefined) return null;
  const parsed = parseRolloutHeader(raw);
  if (!parsed.ok) throw new FleetconfError("invalid_request", `Config-Rollout: ${parsed.reason}.`);
  return parsed.value;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function versionSummary(record: VersionRecord) {
  return { version: record.version, etag: record.etag, publishedAt: iso(record.publishedAt) };
}

/** The rollout resource: the running rollout with its share now, or the latest finished one. */
export function rolloutDocument(view: RolloutView, nowMs: number): RolloutStatusDocument {
  const { rollout, candidate, live } = view;
  if (rollout === null || candidate === null)
    return { key: view.key, state: "none", live: versionSummary(live) };
  const running = rollout.endedAt === null;
  return {
    key: view.key,
    state: running ? "running" : (rollout.outcome ?? "completed"),
    live: versionSummary(live),
    stable: { version: rollout.stableVersion },
    candidate: versionSummary(candidate),
    mode: rollout.mode,
    percent: rollout.percent,
    start: rollout.start,
    step: rollout.step,
    everySeconds: rollout.everySeconds,
    ring: rollout.ring ?? null,
    share: running ? shareOf(rollout, nowMs) : null,
    fullAt: running ? iso(fullShareAt(rolloutHeadOf(rollout, candidate))) : null,
    startedAt: iso(rollout.startedAt),
    startedBy: rollout.startedBy,
    message: rollout.message,
    updatedAt: iso(rollout.updatedAt),
    updatedBy: rollout.updatedBy,
    endedAt: iso(rollout.endedAt),
    endedBy: rollout.endedBy,
    resultVersion: rollout.resultVersion,
    gates: rollout.gates
      ? {
          maxRejected: rollout.gates.maxRejected,
          minClients: rollout.gates.maxRejected === null ? null : rollout.gates.minClients,
          bakeSeconds: rollout.gates.bakeSeconds,
          bakedAt: iso(rollout.startedAt + rollout.gates.bakeSeconds * 1000),
        }
      : null,
    // Why the origin aborted it by itself (health gate or external alarm), with the figures.
    autoAbort: rollout.autoAbort ? { ...rollout.autoAbort, at: iso(rollout.autoAbort.at) } : null,
  };
}

const rolloutResponses = (statuses: number[]) => ({
  200: { description: "The rollout resource.", content: { "application/json": { schema: RolloutStatus } } },
  ...problems(404, ...statuses),
});
const headers = z.object({ "config-message": WriteHeaders.shape["config-message"] });

const readRoute = createRoute({
  method: "get",
  path: `${CONFIGS}/${KEY}/-/rollout`,
  summary: "A config's running rollout with its share now, or the last one",
  middleware: [keyScope("read")] as const,
  request: { params: KeyParams },
  responses: rolloutResponses([]),
});

const patchRequest = {
  params: KeyParams,
  headers,
  body: { required: true, content: { "application/json": { schema: RolloutPatch } } },
};
const patchRoute = createRoute({
  method: "patch",
  path: `${CONFIGS}/${KEY}/-/rollout`,
  summary: "Hold a running rollout's share at `percent` (never lower) and/or widen its ring",
  middleware: [keyScope("publish"), strictJsonBody()] as const,
  request: patchRequest,
  responses: rolloutResponses([409, 413, 415]),
});
const legacyPatchRoute = createRoute({
  method: "patch",
  path: `${CONFIGS}/${KEY}/rollout`,
  summary: "Deprecated: PATCH /v1/configs/{key}/-/rollout",
  deprecated: true,
  middleware: [deprecatedAlias("/rollout", "/-/rollout"), keyScope("publish"), strictJsonBody()] as const,
  request: patchRequest,
  responses: rolloutResponses([409, 413, 415]),
});

function finishRoute(how: "complete" | "abort", legacy: boolean) {
  const summary =
    how === "complete"
      ? "Complete a running rollout: the candidate for everyone"
      : "Abort a running rollout: the stable content as a new version";
  return createRoute({
    method: "post",
    path: legacy ? `${CONFIGS}/${KEY}/rollout/${how}` : `${CONFIGS}/${KEY}/-/rollout/${how}`,
    summary: legacy ? `Deprecated: POST /v1/configs/{key}/-/rollout/${how}` : summary,
    ...(legacy ? { deprecated: true } : {}),
    middleware: legacy
      ? [deprecatedAlias(`/rollout/${how}`, `/-/rollout/${how}`), keyScope("publish")]
      : [keyScope("publish")],
    request: { params: KeyParams, headers },
    responses: rolloutResponses([409]),
  });
}

/**
 * POST …/-/rollout/alarm: a monitoring system stops the key's running rollout (as AppConfig's
 * CloudWatch alarms roll a deployment back). Needs only `alarm:{namespace}` (or publish/admin);
 * new, so it has no spelling without `/-/`.
 */
const alarmRoute = createRoute({
  method: "post",
  path: `${CONFIGS}/${KEY}/-/rollout/alarm`,
  summary: "An external alarm stops a running rollout (scope alarm:{namespace})",
  middleware: [keyScope("alarm"), optionalJsonBody()] as const,
  request: {
    params: KeyParams,
    body: { required: false, content: { "application/json": { schema: RolloutAlarm } } },
  },
  responses: rolloutResponses([409, 413, 415]),
});

export function rolloutRoutes() {
  return declaredRoutes()
    .openapi(readRoute, async (c) => {
      const { key, namespace } = c.req.valid("param").key;
      annotate(c, { key });
      const view = unwrap(await c.get("services").store(namespace).rolloutStatus(key));
      return rolloutResponse(c, view);
    })
    .openapi(patchRoute, updateRollout)
    .openapi(legacyPatchRoute, updateRollout)
    .openapi(finishRoute("complete", false), (c) => finishRollout(c, "complete"))
    .openapi(finishRoute("abort", false), (c) => finishRollout(c, "abort"))
    .openapi(finishRoute("complete", true), (c) => finishRollout(c, "complete"))
    .openapi(finishRoute("abort", true), (c) => finishRollout(c, "abort"))
    .openapi(alarmRoute, raiseRolloutAlarm);
}

type KeyInput = { param: z.output<typeof KeyParams>; header: z.output<typeof headers> };

function rolloutResponse(c: Context<OriginApp>, view: RolloutView, distribution?: Distribution) {
  const document = rolloutDocument(view, Date.now());
  annotate(c, { rollout: document.state, ...(distribution ? { distribution } : {}) });
  c.header("Cache-Control", NO_STORE);
  return c.json(distribution ? { ...document, distribution } : document, 200);
}

async function updateRollout(
  c: Context<OriginApp, string, { out: KeyInput & { json: z.output<typeof RolloutPatch> } }>,
) {
  const { key, namespace } = c.req.valid("param").key;
  annotate(c, { key });
  const patch = c.req.valid("json");
  const ring =
    patch.ring === null
      ? null
      : patch.colos === undefined && patch.continents === undefined
        ? undefined
        : {
            ...(patch.colos ? { colos: patch.colos } : {}),
            ...(patch.continents ? { continents: patch.continents } : {}),
          };
  const change = unwrap(
    await c
      .get("services")
      .store(namespace)
      .updateRollout({
        namespace,
        key,
        actor: c.get("caller").sub,
        message: c.req.valid("header")["config-message"],
        ...(patch.percent === undefined ? {} : { percent: Math.round(patch.percent * 100) / 100 }),
        ...(ring === undefined ? {} : { ring }),
      }),
  );
  return rolloutResponse(c, change.view, change.distribution);
}

/** POST …/-/rollout/complete or …/-/rollout/abort; no body is needed (`Config-Message` is honoured). */
async function finishRollout(c: Context<OriginApp, string, { out: KeyInput }>, how: "complete" | "abort") {
  const { key, namespace } = c.req.valid("param").key;
  annotate(c, { key });
  const input = {
    namespace,
    key,
    actor: c.get("caller").sub,
    message: c.req.valid("header")["config-message"],
  };
  const store = c.get("services").store(namespace);
  if (how === "complete") {
    const change = unwrap(await store.completeRollout(input));
    return rolloutResponse(c, change.view, change.distribution);
  }
  const outcome = unwrap(await store.abortRollout(input));
  annotate(c, { version: outcome.record.version });
  c.header("Config-Version", String(outcome.record.version));
  c.header("ETag", outcome.record.etag);
  return rolloutResponse(c, outcome.view, outcome.distribution);
}

/** The body is optional: a bare POST (no Content-Type, no bytes) reads as `{}`; else strict JSON. */
export function optionalJsonBody(): MiddlewareHandler<OriginApp> {
  const strict = strictJsonBody();
  return async function optionalJsonBody(c, next) {
    const bare =
      c.req.header("Content-Type") === undefined && (c.req.header("Content-Length") ?? "0") === "0";
    if (!bare) return strict(c, next);
    const headers = new Headers(c.req.raw.headers);
    headers.set("Content-Type", "application/json");
    c.req.raw = new Request(c.req.raw, { body: "{}", headers });
    await next();
  };
}

/**
 * Aborts as a person would — the stable content as a new version — by actor `fleetconf:alarm`,
 * recording the alarm and the fleet's figures on the candidate at that moment (docs/rollouts.md).
 */
async function raiseRolloutAlarm(
  c: Context<
    OriginApp,
    string,
    { out: { param: z.output<typeof KeyParams>; json: z.output<typeof RolloutAlarm> } }
  >,
) {
  const { key, namespace } = c.req.valid("param").key;
  const body = c.req.valid("json");
  const alarm = { name: body.name ?? "external", detail: body.detail ?? null };
  annotate(c, { key, alarm: alarm.name });
  const store = c.get("services").store(namespace);
  const view = unwrap(await store.rolloutStatus(key));
  const running = view.rollout !== null && view.rollout.endedAt === null ? view.rollout : null;
  if (running === null) {
    throw new FleetconfError(
      "conflict",
      `No rollout is running for ${key}: there is nothing for the alarm to stop.`,
    );
  }
  const gates = running.gates ?? null;
  const figures = await gateFiguresAcross(fleetShards(c.env, namespace), {
    key,
    candidate: running.candidateVersion,
    startedAt: running.startedAt,
    maxRejected: gates?.maxRejected ?? 0,
    minClients: gates?.minClients ?? 0,
  });
  const outcome = unwrap(
    await store.abortForHealth({
      namespace,
      key,
      candidate: running.candidateVersion,
      autoAbort: {
        trigger: "alarm",
        at: Date.now(),
        ...figures,
        maxRejected: gates?.maxRejected ?? null,
        minClients: gates === null || gates.maxRejected === null ? null : gates.minClients,
        alarm,
      },
    }),
  );
  // The line to alert on, as for a health gate's abort (fleet-store.ts).
  logLine({
    part: "origin",
    event: "rollout_auto_abort",
    trigger: "alarm",
    alarm: alarm.name,
    key,
    candidate: running.candidateVersion,
    outcome: "aborted",
    reporting: figures.reporting,
    rejected: figures.rejected,
    rejectedPercent: figures.rejectedPercent,
    requestId: c.get("requestId"),
  });
  annotate(c, { version: outcome.record.version });
  c.header("Config-Version", String(outcome.record.version));
  c.header("ETag", outcome.record.etag);
  return rolloutResponse(c, outcome.view, outcome.distribution);
}
