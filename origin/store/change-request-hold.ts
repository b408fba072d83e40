/**
 * Holding a write for four-eyes approval (change-requests.ts decides them): the WriteGate a
 * publish, rollback, delete or change set runs through when the namespace's `approval` setting is
 * `required` — every check of the direct write has passed under the lock, and instead of
 * committing, the exact bytes it would write are stored as a pending request with its audit
 * entry. Also what both sides share: the audit entry of a request, and recording expiry.
 */
import { contentDigestOf, sha256, utf8Bytes } from "../../core";
import {
  decideRequest,
  expiredPending,
  insertRequest,
  type NewRequest,
  readRequest,
} from "./change-request-tables";
import type { ChangeSetInput, ChangeSetMember } from "./change-sets";
import { commitChange } from "./commit";
import type { WriteGate } from "./key-writes";
import type { StoreCore } from "./store-core";
import { readLive, readSettings } from "./tables";
import type { AuditAction, ChangeRequestRecord, PublishInput, RollbackInput } from "./types";

const utf8 = new TextDecoder();

/** What a held write stores, apart from what every request has (author, times, state). */
export type RequestFacts = Omit<NewRequest, "author" | "createdAt" | "expiresAt" | "namespace" | "baseEtag">;

/**
 * The gate of a write by `actor` at `nowMs`: when the namespace requires approval, holds it as a
 * pending request described by `facts` (given the digest of the bytes the write would publish).
 */
export function holdAs(
  core: StoreCore,
  namespace: string,
  actor: string,
  nowMs: number,
  facts: (digest: string | null) => RequestFacts,
): WriteGate {
  return {
    hold(digest) {
      const settings = readSettings(core.sql);
      if (settings.approval !== "required") return null;
      recordExpired(core, namespace, nowMs);
      const held = facts(digest);
      const request: NewRequest = {
        ...held,
        // What the reviewer will be shown the change against (approval checks it is still so).
        baseEtag: held.key === null ? null : (readLive(core.sql, held.key)?.etag ?? null),
        namespace,
        author: actor,
        createdAt: nowMs,
        expiresAt: nowMs + (settings.approvalTtl ?? 0) * 1000,
      };
      let id = 0;
      commitChange(core, {
        at: nowMs,
        write: () => {
          id = insertRequest(core.sql, request);
        },
        audit: requestAudit("change_request_created", request, actor, request.message, {
          kind: request.kind,
          keys: request.keys.join(","),
          expiresAt: new Date(request.expiresAt).toISOString(),
        }),
        outbox: null,
        log: { namespace, kind: request.kind, keys: request.keys.length, actor },
      });
      const stored = readRequest(core.sql, namespace, id, nowMs);
      if (!stored) throw new Error(`change request ${id} vanished after its insert`);
      return stored;
    },
  };
}

export function publishFacts(input: PublishInput, digest: string | null): RequestFacts {
  return {
    kind: "publish",
    key: input.key,
    keys: [input.key],
    message: input.message,
    digest,
    size: input.body.length,
    ifMatch: input.ifMatch,
    ifNoneMatch: input.ifNoneMatch,
    rollout: input.rollout ?? null,
    to: null,
    body: input.body,
  };
}

/** A rollback or delete holds no bytes: it applies stored versions, checked again on approval. */
export function keyFacts(
  kind: "rollback" | "delete",
  input: RollbackInput | (Omit<RollbackInput, "to"> & { to?: undefined }),
  digest: string | null,
): RequestFacts {
  return {
    kind,
    key: input.key,
    keys: [input.key],
    message: input.message,
    digest,
    size: 0,
    ifMatch: input.ifMatch,
    ifNoneMatch: input.ifNoneMatch,
    rollout: null,
    to: input.to ?? null,
    body: new Uint8Array(0),
  };
}

/**
 * A change set's members as the bytes reviewed: a JSON array whose contents are the members'
 * exact bytes as strings, so approval publishes byte for byte what was requested.
 */
export async function changeSetFacts(input: ChangeSetInput): Promise<RequestFacts> {
  const members = input.changes.map((m) =>
    "delete" in m ? { key: m.key, delete: true } : { key: m.key, content: utf8.decode(m.body) },
  );
  const body = utf8Bytes(JSON.stringify(members));
  return {
    kind: "changes",
    key: null,
    keys: input.changes.map((m) => m.key),
    message: input.message,
    digest: contentDigestOf(await sha256(body)),
    size: body.length,
    ifMatch: null,
    ifNoneMatch: null,
    rollout: null,
    to: null,
    body,
  };
}

export function changeSetMembers(body: Uint8Array): ChangeSetMember[] {
  const members = JSON.parse(utf8.decode(body)) as ({ key: string; content: string } | { key: string })[];
  return members.map((m) =>
    "content" in m ? { key: m.key, body: utf8Bytes(m.content) } : { key: m.key, delete: true },
  );
}

/** Records every pending request past its expiry as expired, each with its audit entry. */
export function recordExpired(core: StoreCore, namespace: string, nowMs: number): void {
  for (const id of expiredPending(core.sql, nowMs)) {
    const request = readRequest(core.sql, namespace, id, nowMs);
    if (!request) continue;
    commitChange(core, {
      at: nowMs,
      write: () =>
        decideRequest(core.sql, id, {
          state: "expired",
          at: nowMs,
          by: null,
          reason: null,
          resultVersion: null,
        }),
      audit: requestAudit("change_request_expired", request, "fleetconf", null, { changeRequest: id }),
      outbox: null,
      log: { namespace, changeRequest: id },
    });
  }
}

export function requestAudit(
  action: AuditAction,
  request: Pick<ChangeRequestRecord, "key" | "digest">,
  actor: string,
  message: string | null,
  detail: Record<string, string | number | null>,
) {
  return {
    actor,
    action,
    key: request.key,
    message,
    fromVersion: null,
    toVersion: typeof detail.resultVersion === "number" ? detail.resultVersion : null,
    digest: request.digest,
    detail,
  };
}
