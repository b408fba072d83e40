/**
 * `POST /v1/changes` (DESIGN §8): a change set — several keys of one namespace published or
 * deleted all or nothing, in one Durable Object transaction with one audit entry and one
 * distribution (store/change-sets.ts). Every member is checked before anything is written; a
 * refused member answers for the whole set, its problem's `errors` pointing at it
 * (`/changes/2/content`). Scope: `publish:{namespace}` of the set's namespace, checked once the
 * body names it and before the store sees the set.
 */
import { createRoute } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import {
  annotate,
  FleetconfError,
  logLine,
  MAX_DEPTH,
  parseKey,
  requireJsonDocument,
  utf8Bytes,
} from "../../core";
import type { OriginApp } from "../app-env";
import { ChangeSetRequest, ChangeSetResult } from "../contract";
import { readBodyWithin, requireJsonMediaType } from "../http/body";
import { declaredRoutes, problems } from "../http/declared-routes";
import { HELD, heldResponse } from "../http/held-response";
import { namespaceRegistry } from "../http/ops-stores";
import { unwrap } from "../http/store-call";
import { changeSetDocument, NO_STORE_HEADERS } from "../http/write-response";
import { requireScope } from "../middleware/admin-auth";
import type { ChangeSetMember } from "../store/change-sets";
import { isHeld } from "../store/types";

/** A set's body may hold this many configs of the largest size (each member is capped on its own). */
export const CHANGE_SET_BODY_CONFIGS = 4;
/** The wrapper (`{"changes":[{"content": …}]}`) nests a member's content 3 levels deeper. */
const WRAPPER_DEPTH = 3;

/** As strictJsonBody (http/body.ts), with the limit a set of configs needs. */
function changeSetBody(): MiddlewareHandler<OriginApp> {
  return async function changeSetBody(c, next) {
    requireJsonMediaType(c.req.header("Content-Type"));
    const limit = c.get("services").config.maxConfigBytes * CHANGE_SET_BODY_CONFIGS;
    const text = requireJsonDocument(await readBodyWithin(c.req.raw, limit), MAX_DEPTH + WRAPPER_DEPTH);
    c.req.raw = new Request(c.req.raw, { body: text });
    await next();
  };
}

const changeRoute = createRoute({
  method: "post",
  path: "/v1/changes",
  summary: "Apply a change set: several keys of one namespace, all or nothing",
  middleware: [changeSetBody()] as const,
  request: {
    body: { required: true, content: { "application/json": { schema: ChangeSetRequest } } },
  },
  responses: {
    200: {
      description: "Every member was already as asked: nothing changed.",
      content: { "application/json": { schema: ChangeSetResult } },
    },
    201: {
      description: "Applied: the new versions, committed together.",
      content: { "application/json": { schema: ChangeSetResult } },
    },
    ...HELD,
    ...problems(404, 409, 413, 415, 422),
  },
});

function refuse(
  code: "invalid_key" | "invalid_request" | "payload_too_large",
  pointer: string,
  detail: string,
): never {
  throw new FleetconfError(code, `${detail} Nothing was applied.`, {
    extensions: { errors: [{ pointer, detail }] },
  });
}

/** Each member: a valid key of the set's one namespace, named once, with content or delete. */
function membersOf(
  changes: { key: string; content?: unknown; delete?: true }[],
  maxBytes: number,
): { namespace: string; members: ChangeSetMember[] } {
  let namespace: string | null = null;
  const seen = new Set<string>();
  const members = changes.map((change, index): ChangeSetMember => {
    const parsed = parseKey(change.key);
    if (!parsed.ok) refuse("invalid_key", `/changes/${index}/key`, `Invalid key: ${parsed.reason}.`);
    const { key } = parsed.value;
    namespace ??= parsed.value.namespace;
    if (parsed.value.namespace !== namespace) {
      refuse(
        "invalid_request",
        `/changes/${index}/key`,
        `${key} is not in namespace ${namespace}: a change set holds keys of one namespace.`,
      );
    }
    if (seen.has(key)) refuse("invalid_request", `/changes/${index}/key`, `${key} is named twice.`);
    seen.add(key);
    const hasContent = change.content !== undefined;
    if (hasContent === (change.delete === true)) {
      refuse("invalid_request", `/changes/${index}`, 'Give either "content" or "delete": true.');
    }
    if (change.delete === true) return { key, delete: true };
    const body = utf8Bytes(JSON.stringify(change.content));
    if (body.length > maxBytes) {
      refuse(
        "payload_too_large",
        `/changes/${index}/content`,
        `The document is larger than the limit of ${maxBytes} bytes.`,
      );
    }
    return { key, body };
  });
  if (namespace === null) throw new FleetconfError("invalid_request", "changes must name at least one key.");
  return { namespace, members };
}

export function changeRoutes() {
  return declaredRoutes().openapi(changeRoute, async (c) => {
    const request = c.req.valid("json");
    const { config } = c.get("services");
    const { namespace, members } = membersOf(request.changes, config.maxConfigBytes);
    annotate(c, { namespace, changes: members.length });
    requireScope(c, { action: "publish", namespace });
    const outcome = unwrap(
      await c
        .get("services")
        .store(namespace)
        .applyChanges({
          namespace,
          actor: c.get("caller").sub,
          message: request.message ?? null,
          changes: members,
        }),
    );
    if (isHeld(outcome)) return heldResponse(c, outcome.held);
    // registerNamespace finds no namespace in this path: the set's namespace is registered here.
    if (outcome.applied) await registerQuietly(c.env, namespace);
    annotate(c, { applied: outcome.applied, distribution: outcome.distribution });
    const document = changeSetDocument(namespace, outcome);
    return outcome.applied
      ? c.json(document, 201, NO_STORE_HEADERS)
      : c.json(document, 200, NO_STORE_HEADERS);
  });
}

async function registerQuietly(env: OriginApp["Bindings"], namespace: string): Promise<void> {
  try {
    await namespaceRegistry(env).register(namespace, Date.now());
  } catch (error) {
    logLine({ part: "origin", level: "warn", event: "registry_failed", namespace, error: String(error) });
  }
}
