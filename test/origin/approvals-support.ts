/**
 * Four-eyes helpers for the origin tests: a namespace with approval required, tokens of two
 * admins with different subjects, and the change-request calls.
 */
import { expect } from "vitest";
import { adminToken, call, freshNamespace, originEnv } from "./support/origin";

export const AUTHOR = "alice";
export const REVIEWER = "bob";

export const tokenOf = (sub: string, scope = "admin") => adminToken(scope, { sub });

export interface ChangeRequestBody {
  id: number;
  namespace: string;
  state: string;
  kind: string;
  key: string | null;
  keys: string[];
  author: string;
  digest: string | null;
  size: number;
  ifMatch: string | null;
  decidedBy: string | null;
  reason: string | null;
  resultVersion: number | null;
  expiresAt: string;
  createdAt: string;
}

/** A fresh namespace with `approval: required` (and the ttl given). */
export async function gatedNamespace(settings: Record<string, unknown> = {}): Promise<string> {
  const ns = freshNamespace();
  const res = await call("PUT", `/v1/namespaces/${ns}`, { json: { approval: "required", ...settings } });
  expect(res.status).toBe(200);
  return ns;
}

/** Reads a 202's change request, checking Location names it. */
export async function heldOf(res: Response): Promise<ChangeRequestBody> {
  expect(res.status).toBe(202);
  const { changeRequest } = (await res.json()) as { changeRequest: ChangeRequestBody };
  expect(res.headers.get("Location")).toBe(
    `/v1/change-requests/${changeRequest.namespace}/${changeRequest.id}`,
  );
  return changeRequest;
}

export function approve(ns: string, id: number, sub = REVIEWER, json?: unknown) {
  return tokenOf(sub).then((token) =>
    call("POST", `/v1/change-requests/${ns}/${id}/approve`, json === undefined ? { token } : { token, json }),
  );
}

export function reject(ns: string, id: number, reason: string, sub = REVIEWER) {
  return tokenOf(sub).then((token) =>
    call("POST", `/v1/change-requests/${ns}/${id}/reject`, { token, json: { reason } }),
  );
}

export async function requestOf(ns: string, id: number) {
  const res = await call("GET", `/v1/change-requests/${ns}/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as {
    changeRequest: ChangeRequestBody;
    diff: unknown[] | null;
    members: { key: string; delete: boolean; diff: unknown[] | null }[] | null;
  };
}

export async function actionsOf(ns: string): Promise<{ action: string; actor: string; detail: unknown }[]> {
  const res = await call("GET", `/v1/audit?namespace=${ns}`);
  return ((await res.json()) as { entries: { action: string; actor: string; detail: unknown }[] }).entries;
}

/** A read through the real edge (EDGE binding, same KV), as a client sees it (public namespaces). */
export function edgeRead(key: string): Promise<Response> {
  if (!originEnv.EDGE) throw new Error("the origin test project needs the EDGE binding");
  return originEnv.EDGE.fetch(`https://edge.test/v1/configs/${key}`);
}

export async function turnOn(ns: string, settings: Record<string, unknown> = {}): Promise<void> {
  const res = await call("PUT", `/v1/namespaces/${ns}`, { json: { approval: "required", ...settings } });
  expect(res.status).toBe(200);
}
