/** Helpers for the origin's rollout, schema, diff and audit tests (docs/rollouts.md). */
import { type HeadRecord, kvKeys } from "../../core";
import type {
  AuditEntryDocument as AuditEntry,
  RolloutStatusDocument as RolloutDocument,
} from "../../origin/contract";
import { call, originEnv, publish } from "./support/origin";

export type { RolloutDocument };

/** PUT with `Config-Rollout`. */
export function startRollout(
  key: string,
  doc: unknown,
  rollout: string,
  headers: Record<string, string> = {},
  token?: string | null,
) {
  return publish(key, doc, {
    headers: { "Config-Rollout": rollout, ...headers },
    ...(token === undefined ? {} : { token }),
  });
}

export async function rolloutOf(key: string, token?: string): Promise<RolloutDocument> {
  const res = await call("GET", `/v1/configs/${key}/-/rollout`, token === undefined ? {} : { token });
  if (res.status !== 200) throw new Error(`GET rollout answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as RolloutDocument;
}

export function patchRollout(key: string, body: unknown, token?: string) {
  return call("PATCH", `/v1/configs/${key}/-/rollout`, {
    json: body,
    ...(token === undefined ? {} : { token }),
  });
}

export function finish(
  key: string,
  how: "complete" | "abort",
  options: { token?: string; message?: string } = {},
) {
  return call("POST", `/v1/configs/${key}/-/rollout/${how}`, {
    ...(options.token === undefined ? {} : { token: options.token }),
    headers: options.message === undefined ? {} : { "Config-Message": options.message },
  });
}

export async function headOf(key: string): Promise<HeadRecord | null> {
  return (await originEnv.CONFIGS.get(kvKeys.head(key), "json")) as HeadRecord | null;
}

/** A read through the real edge bound as EDGE (shared KV, purged by the origin), from location `cf` if given. */
export function edgeRead(
  key: string,
  clientId?: string,
  extra: Record<string, string> = {},
  cf?: { colo: string; continent: string },
) {
  if (!originEnv.EDGE) throw new Error("the origin test project needs the EDGE binding");
  const headers: Record<string, string> = { ...extra };
  if (clientId !== undefined) headers["Config-Client-Id"] = clientId;
  return originEnv.EDGE.fetch(`https://edge.test/v1/configs/${key}`, cf ? { headers, cf } : { headers });
}

export async function makePublic(namespace: string): Promise<void> {
  const res = await call("PUT", `/v1/namespaces/${namespace}`, { json: { visibility: "public" } });
  if (res.status !== 200) throw new Error(`namespace answered ${res.status}`);
}

export async function auditOf(query: string): Promise<{ entries: AuditEntry[]; next: string | null }> {
  const res = await call("GET", `/v1/audit?${query}`);
  if (res.status !== 200) throw new Error(`audit answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { entries: AuditEntry[]; next: string | null };
}
