/**
 * Staged rollouts over HTTP (docs/rollouts.md): the `Config-Rollout` header of a publish, and
 * `/v1/configs/{key}/rollout` — GET (state and the share now), PATCH `{"percent": n}` (hold the
 * share at n, never lower than now), POST `…/complete` and POST `…/abort`. Decisions that depend
 * on stored state are made by the namespace's Durable Object (origin/store/rollouts.ts).
 */
import type { Context } from "hono";
import {
  annotate,
  type ConfigKey,
  FleetconfError,
  fullShareAt,
  logLine,
  parseRolloutHeader,
} from "../../core";
import type { OriginApp } from "../app-env";
import { readControlObject } from "../http/body";
import { readConfigMessage } from "../http/headers";
import { unwrap } from "../http/store-call";
import { requireScope } from "../middleware/admin-auth";
import { gateFiguresAcross } from "../store/fleet-shards";
import { rolloutHeadOf } from "../store/rollout-tables";
import { shareOf } from "../store/rollouts";
import type { Distribution, RolloutSpec, RolloutView, VersionRecord } from "../store/types";

const NO_STORE = "no-store";

/** `Config-Rollout: 30` or `linear; start=10; step=10; every=60` (core parseRolloutHeader), or null. */
export function readRolloutHeader(headers: Headers): RolloutSpec | null {
  const raw = headers.get("Config-Rollout");
  if (raw === null) return null;
  const parsed = parseRolloutHeader(raw);
  if (!parsed.ok) throw new FleetconfError("invalid_request", `Config-Rollout: ${parsed.reason}.`);
  return parsed.value;
}

/**
 * A PATCH percent: a number from 0 to 100 with at most two decimals, the precision of the cohort
 * buckets (10,000 of them, core/rollout.ts).
 */
export function parsePercent(value: unknown): number {
  if (
    typeof value !== "number" ||
    !Number.isFinite(value) ||
    value < 0 ||
    value > 100 ||
    Math.abs(value * 100 - Math.round(value * 100)) > 1e-9
  ) {
    throw new FleetconfError(
      "invalid_request",
      "percent must be a number from 0 to 100 with at most two decimals.",
    );
  }
  return Math.round(value * 100) / 100;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function versionSummary(record: VersionRecord) {
  return { version: record.version, etag: record.etag, publishedAt: iso(record.publishedAt) };
}

/** The rollout resource: the running rollout with its share now, or the latest finished one. */
export function rolloutDocument(view: RolloutView, nowMs: number) {
  const { rollout, candidate, live } = view;
  if (rollout === null || candidate === null)
    return { key: view.key, state: "none", live: versionSummary(live) };
  const running = rollout.endedAt === null;
  return {
    key: view.key,
    state: running ? "running" : rollout.outcome,
    live: versionSummary(live),
    stable: { version: rollout.stableVersion },
    candidate: versionSummary(candidate),
    mode: rollout.mode,
    percent: rollout.percent,
    start: rollout.start,
    step: rollout.step,
    everySeconds: rollout.everySeconds,
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

function rolloutResponse(c: Context<OriginApp>, view: RolloutView, distribution?: Distribution): Response {
  const document = rolloutDocument(view, Date.now());
  annotate(c, { rollout: document.state, ...(distribution ? { distribution } : {}) });
  c.header("Cache-Control", NO_STORE);
  return c.json(distribution ? { ...document, distribution } : document);
}

export async function readRollout(c: Context<OriginApp>, key: ConfigKey): Promise<Response> {
  requireScope(c, { action: "read", namespace: key.namespace });
  const view = unwrap(await c.get("services").store(key.namespace).rolloutStatus(key.key));
  return rolloutResponse(c, view);
}

export async function updateRollout(c: Context<OriginApp>, key: ConfigKey): Promise<Response> {
  requireScope(c, { action: "publish", namespace: key.namespace });
  const message = readConfigMessage(c.req.raw.headers);
  const body = await readControlObject(c.req.raw, ["percent"]);
  const percent = parsePercent(body.percent);
  const change = unwrap(
    await c
      .get("services")
      .store(key.namespace)
      .updateRollout({
        namespace: key.namespace,
        key: key.key,
        actor: c.get("caller").sub,
        message,
        percent,
      }),
  );
  return rolloutResponse(c, change.view, change.distribution);
}

/** POST …/rollout/complete or …/rollout/abort; no body is needed (`Config-Message` is honoured). */
export async function finishRollout(
  c: Context<OriginApp>,
  key: ConfigKey,
  how: "complete" | "abort",
): Promise<Response> {
  requireScope(c, { action: "publish", namespace: key.namespace });
  const input = {
    namespace: key.namespace,
    key: key.key,
    actor: c.get("caller").sub,
    message: readConfigMessage(c.req.raw.headers),
  };
  const store = c.get("services").store(key.namespace);
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

/** An alarm's name: what the monitoring system calls it (a CloudWatch alarm name, say). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f]/;
const ALARM_NAME = /^[A-Za-z0-9._:/ -]{1,128}$/;

/** The body of POST …/-/rollout/alarm: `{"name"?, "detail"?}`, both optional. */
export function parseAlarm(body: Record<string, unknown>): { name: string; detail: string | null } {
  const { name = "external", detail = null } = body;
  if (typeof name !== "string" || !ALARM_NAME.test(name))
    throw new FleetconfError(
      "invalid_request",
      "name must be 1–128 characters of A-Z a-z 0-9 . _ : / - and space.",
    );
  if (detail !== null && (typeof detail !== "string" || detail.length > 500 || CONTROL.test(detail)))
    throw new FleetconfError(
      "invalid_request",
      "detail must be a string of at most 500 characters without control characters.",
    );
  return { name, detail };
}

/**
 * POST …/-/rollout/alarm: a monitoring system stops the key's running rollout (as AppConfig's
 * CloudWatch alarms roll a deployment back). Needs only `alarm:{namespace}` (or publish/admin).
 * Aborts as a person would — the stable content as a new version — recording the alarm and the
 * fleet's figures for the candidate at that moment in the rollout document and the audit.
 */
export async function raiseRolloutAlarm(c: Context<OriginApp>, key: ConfigKey): Promise<Response> {
  requireScope(c, { action: "alarm", namespace: key.namespace });
  // The body is optional: a bare POST is an alarm named "external".
  const bare = c.req.header("Content-Type") === undefined && (c.req.header("Content-Length") ?? "0") === "0";
  const alarm = parseAlarm(bare ? {} : await readControlObject(c.req.raw, ["name", "detail"]));
  const store = c.get("services").store(key.namespace);
  const view = unwrap(await store.rolloutStatus(key.key));
  const running = view.rollout !== null && view.rollout.endedAt === null ? view.rollout : null;
  if (running === null) {
    throw new FleetconfError(
      "conflict",
      `No rollout is running for ${key.key}: there is nothing for the alarm to stop.`,
    );
  }
  const figures = await gateFiguresAcross(c.env, key.namespace, {
    key: key.key,
    candidate: running.candidateVersion,
    startedAt: running.startedAt,
    maxRejected: running.gates?.maxRejected ?? 0,
    minClients: running.gates?.minClients ?? 0,
  });
  const at = Date.now();
  const outcome = unwrap(
    await store.abortForHealth({
      namespace: key.namespace,
      key: key.key,
      candidate: running.candidateVersion,
      autoAbort: {
        trigger: "alarm",
        at,
        ...figures,
        maxRejected: running.gates?.maxRejected ?? null,
        minClients: running.gates?.maxRejected == null ? null : running.gates.minClients,
        alarm,
      },
    }),
  );
  logLine({
    part: "origin",
    event: "rollout_auto_abort",
    trigger: "alarm",
    alarm: alarm.name,
    key: key.key,
    candidate: running.candidateVersion,
    outcome: "aborted",
    reporting: figures.reporting,
    rejected: figures.rejected,
    requestId: c.get("requestId"),
  });
  annotate(c, { version: outcome.record.version, alarm: alarm.name });
  c.header("Config-Version", String(outcome.record.version));
  c.header("ETag", outcome.record.etag);
  return rolloutResponse(c, outcome.view, outcome.distribution);
}
