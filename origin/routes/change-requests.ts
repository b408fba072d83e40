/**
 * `/v1/change-requests/{namespace}…`: four-eyes review of the writes a namespace with `approval:
 * required` holds (docs/operations.md, "Approvals (four-eyes)"). List and read need read access;
 * approving or rejecting needs `publish:{namespace}` (or admin), and an approval must come from a
 * token whose `sub` differs from the author's (403 otherwise). Approving applies the write in the
 * namespace's Durable Object through the direct write's own code path and answers as that write
 * would (201/200 and its document) plus `changeRequest`, the request's final state.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import {
  annotate,
  CHANGE_REQUEST_STATES,
  type ChangeRequestState,
  FleetconfError,
  isChangeRequestState,
  parseChangeRequestId,
} from "../../core";
import type { JsonValue } from "../../core/json-diff";
import { diffPatch } from "../../core/json-patch";
import type { OriginApp } from "../app-env";
import {
  ApproveRequest,
  ChangeRequest,
  ChangeRequestPage,
  ChangeSetResult,
  DeleteResult,
  JsonPatch,
  PublishResult,
  RejectRequest,
  type RolloutStatusDocument,
} from "../contract";
import { strictJsonBody } from "../http/body";
import { decodeCursor, encodeCursor, parseLimit } from "../http/cursor";
import { declaredRoutes, optionalParsedBy, parsedBy, problems } from "../http/declared-routes";
import { changeRequestDocument } from "../http/held-response";
import { unwrap } from "../http/store-call";
import { changeSetDocument, deleteDocument, NO_STORE_HEADERS, writeDocument } from "../http/write-response";
import { namespaceScope } from "../middleware/admin-auth";
import type { ApprovedChange } from "../store/change-requests";
import { NamespaceParams } from "./namespaces";
import { optionalJsonBody, rolloutDocument } from "./rollouts";

const BASE = "/v1/change-requests/{namespace}";
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;
const STATES = [...CHANGE_REQUEST_STATES, "all"] as const;
const utf8 = new TextDecoder();

/**
 * What a reviewer is shown: the RFC 6902 patch from the key's live content to the held bytes, or
 * for a key with none (new, or deleted) the whole document as one `add` at the root.
 */
function reviewPatch(live: Uint8Array | null, held: Uint8Array) {
  const after = JSON.parse(utf8.decode(held)) as JsonValue;
  if (live === null) return [{ op: "add" as const, path: "", value: after }];
  return diffPatch(JSON.parse(utf8.decode(live)) as JsonValue, after);
}

function parseState(raw: string | undefined): ChangeRequestState | "all" {
  if (raw === undefined) return "pending";
  if (raw === "all" || isChangeRequestState(raw)) return raw;
  throw new FleetconfError("invalid_request", `state must be one of ${STATES.join(", ")}.`);
}

const RequestParams = NamespaceParams.extend({
  id: parsedBy(parseChangeRequestId).openapi({
    param: { name: "id", in: "path" },
    description: "The change request's id (from the 202's Location).",
    example: "7",
  }),
});

const listRoute = createRoute({
  method: "get",
  path: BASE,
  summary: "A namespace's change requests, newest first",
  middleware: [namespaceScope("read")] as const,
  request: {
    params: NamespaceParams,
    query: z.object({
      state: optionalParsedBy(parseState).openapi({
        description: `One of ${STATES.join(", ")} (default pending).`,
      }),
      limit: optionalParsedBy((raw) => parseLimit(raw, DEFAULT_LIMIT, MAX_LIMIT)).openapi({
        description: `Page size, 1 to ${MAX_LIMIT} (default ${DEFAULT_LIMIT}).`,
      }),
      cursor: optionalParsedBy((raw) => decodeCursor("before", raw)).openapi({
        description: "The `next` of the page before.",
      }),
    }),
  },
  responses: {
    200: { description: "One page.", content: { "application/json": { schema: ChangeRequestPage } } },
    ...problems(),
  },
});

const readRoute = createRoute({
  method: "get",
  path: `${BASE}/{id}`,
  summary: "One change request, with the diff a pending publish would make",
  middleware: [namespaceScope("read")] as const,
  request: { params: RequestParams },
  responses: {
    200: {
      description:
        "The request; for a pending publish `diff` is the RFC 6902 patch from the key's live content (a root `add` of the whole document when the key has none); for a pending change set `members` lists each key with its patch (`delete: true` for a delete). Null otherwise.",
      content: {
        "application/json": {
          schema: z.object({
            changeRequest: ChangeRequest,
            diff: JsonPatch.nullable(),
            members: z
              .array(z.object({ key: z.string(), delete: z.boolean(), diff: JsonPatch.nullable() }))
              .nullable(),
          }),
        },
      },
    },
    ...problems(404),
  },
});

const withRequest = { changeRequest: ChangeRequest };
const approveRoute = createRoute({
  method: "post",
  path: `${BASE}/{id}/approve`,
  summary: "Approve and apply a pending change request (another admin than its author)",
  middleware: [namespaceScope("publish"), optionalJsonBody()] as const,
  request: {
    params: RequestParams,
    body: { required: false, content: { "application/json": { schema: ApproveRequest } } },
  },
  responses: {
    200: {
      description: "Applied, and nothing needed to change (or a delete): the write's document.",
      content: {
        "application/json": {
          schema: z.union([
            PublishResult.extend(withRequest),
            DeleteResult.extend(withRequest),
            ChangeSetResult.extend(withRequest),
          ]),
        },
      },
    },
    201: {
      description: "Applied: the write's document (a new version, or a change set) and the request.",
      content: {
        "application/json": {
          schema: z.union([PublishResult.extend(withRequest), ChangeSetResult.extend(withRequest)]),
        },
      },
    },
    ...problems(404, 409, 410, 412, 413, 415, 422),
  },
});

const rejectRoute = createRoute({
  method: "post",
  path: `${BASE}/{id}/reject`,
  summary: "Reject (or, by its author, withdraw) a pending change request",
  middleware: [namespaceScope("publish"), strictJsonBody()] as const,
  request: {
    params: RequestParams,
    body: { required: true, content: { "application/json": { schema: RejectRequest } } },
  },
  responses: {
    200: { description: "Rejected.", content: { "application/json": { schema: z.object(withRequest) } } },
    ...problems(404, 409, 410, 413, 415),
  },
});

export function changeRequestRoutes() {
  return declaredRoutes()
    .openapi(listRoute, async (c) => {
      const { namespace } = c.req.valid("param");
      const { state, limit, cursor } = c.req.valid("query");
      annotate(c, { namespace, state });
      const page = await c
        .get("services")
        .store(namespace)
        .changeRequests(namespace, { state, limit, before: cursor });
      c.header("Cache-Control", "no-store");
      return c.json(
        {
          namespace,
          changeRequests: page.requests.map(changeRequestDocument),
          next: encodeCursor("before", page.nextBefore),
        },
        200,
      );
    })
    .openapi(readRoute, async (c) => {
      const { namespace, id } = c.req.valid("param");
      annotate(c, { namespace, changeRequest: id });
      const found = unwrap(await c.get("services").store(namespace).changeRequest(namespace, id));
      const diff = found.body === null ? null : reviewPatch(found.live, found.body);
      const members =
        found.members?.map((m) => ({
          key: m.key,
          delete: m.body === null,
          diff: m.body === null ? null : reviewPatch(m.live, m.body),
        })) ?? null;
      c.header("Cache-Control", "no-store");
      return c.json({ changeRequest: changeRequestDocument(found.request), diff, members }, 200);
    })
    .openapi(approveRoute, async (c) => {
      const { namespace, id } = c.req.valid("param");
      annotate(c, { namespace, changeRequest: id });
      const store = c.get("services").store(namespace);
      const approved = unwrap(
        await store.approveChange({
          namespace,
          id,
          actor: c.get("caller").sub,
          reason: c.req.valid("json").message ?? null,
        }),
      );
      return approvedResponse(c, approved);
    })
    .openapi(rejectRoute, async (c) => {
      const { namespace, id } = c.req.valid("param");
      annotate(c, { namespace, changeRequest: id });
      const rejected = unwrap(
        await c
          .get("services")
          .store(namespace)
          .rejectChange({ namespace, id, actor: c.get("caller").sub, reason: c.req.valid("json").reason }),
      );
      c.header("Cache-Control", "no-store");
      return c.json({ changeRequest: changeRequestDocument(rejected) }, 200);
    });
}

/** As the direct write answers, plus the request's final state. */
async function approvedResponse(c: Context<OriginApp>, approved: ApprovedChange) {
  const changeRequest = changeRequestDocument(approved.request);
  annotate(c, { kind: approved.kind });
  if (approved.kind === "delete") {
    return c.json({ ...deleteDocument(approved.outcome), changeRequest }, 200, NO_STORE_HEADERS);
  }
  if (approved.kind === "changes") {
    const document = { ...changeSetDocument(approved.request.namespace, approved.outcome), changeRequest };
    return approved.outcome.applied
      ? c.json(document, 201, NO_STORE_HEADERS)
      : c.json(document, 200, NO_STORE_HEADERS);
  }
  const { document, headers } = writeDocument(approved.outcome);
  const rollout = await startedRollout(c, approved.request);
  const full = { ...document, ...rollout, changeRequest };
  return approved.outcome.created ? c.json(full, 201, headers) : c.json(full, 200, headers);
}

/** An approved rollout start answers with the rollout, as the direct start does. */
async function startedRollout(
  c: Context<OriginApp>,
  request: ApprovedChange["request"],
): Promise<{ rollout?: RolloutStatusDocument }> {
  if (request.kind !== "publish" || !request.rollout || !request.key) return {};
  const view = unwrap(await c.get("services").store(request.namespace).rolloutStatus(request.key));
  return view.rollout ? { rollout: rolloutDocument(view, Date.now()) } : {};
}
