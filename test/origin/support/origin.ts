/// <reference types="@cloudflare/vitest-pool-workers/types" />
/**
 * Calling the origin inside workerd: the real worker (its default export), its real Durable
 * Objects and KV, and the real edge bound as `EDGE`. Each test uses its own namespace so tests
 * never see each other's state.
 */
import type { OriginEnv } from "../../../origin/env";
import type { NamespaceStore } from "../../../origin/store/namespace-store";
import { mintTestAdminToken } from "../../support/admin-token";
import { uniqueNamespace } from "../../support/names";
import { bindings, worker } from "../../support/workerd";

export const originEnv = bindings<OriginEnv>();
export const ORIGIN = "https://origin.test";

export function adminSecret(): string {
  const secret = originEnv.ADMIN_JWT_SECRET;
  if (!secret) throw new Error("the origin test project needs ADMIN_JWT_SECRET");
  return secret;
}

export function adminToken(
  scope = "admin",
  options: { ttlSeconds?: number; sub?: string; nowSeconds?: number } = {},
): Promise<string> {
  return mintTestAdminToken(adminSecret(), scope, options);
}

/** A namespace no other test uses. */
export const freshNamespace = uniqueNamespace;

export interface CallOptions {
  token?: string | null;
  body?: BodyInit | null;
  json?: unknown;
  headers?: Record<string, string>;
}

/** One request to the origin; `token` defaults to a fresh admin token, `null` sends none. */
export async function call(method: string, path: string, options: CallOptions = {}): Promise<Response> {
  const headers = new Headers(options.headers);
  const token = options.token === undefined ? await adminToken() : options.token;
  if (token !== null) headers.set("Authorization", `Bearer ${token}`);
  let body: BodyInit | null = options.body ?? null;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    if (!headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  }
  return worker.fetch(`${ORIGIN}${path}`, { method, headers, body });
}

/** PUT a config; `doc` is sent as-is when a string, else JSON-encoded. */
export function publish(key: string, doc: unknown, options: Omit<CallOptions, "body" | "json"> = {}) {
  const body = typeof doc === "string" ? doc : JSON.stringify(doc);
  return call("PUT", `/v1/configs/${key}`, {
    ...options,
    body,
    headers: { "Content-Type": "application/json", ...options.headers },
  });
}

export interface PublishBody {
  key: string;
  version: number;
  etag: string;
  digest: string;
  publishedAt: string;
  distribution: "complete" | "pending";
}

export async function publishOk(key: string, doc: unknown, options: Omit<CallOptions, "body" | "json"> = {}) {
  const res = await publish(key, doc, options);
  if (res.status !== 201 && res.status !== 200) {
    throw new Error(`publish ${key} answered ${res.status}: ${await res.text()}`);
  }
  return (await res.json()) as PublishBody;
}

export function storeOf(namespace: string): DurableObjectStub<NamespaceStore> {
  return originEnv.NAMESPACES.get(originEnv.NAMESPACES.idFromName(namespace));
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
}

/** Asserts nothing about the status; returns the problem body after checking its media type. */
export async function problemOf(res: Response): Promise<Problem> {
  const type = res.headers.get("Content-Type");
  if (type !== "application/problem+json") {
    throw new Error(`expected problem+json, got ${type} (${res.status}): ${await res.text()}`);
  }
  return (await res.json()) as Problem;
}
