/**
 * Small HTTP helpers for e2e tests: an admin client for the origin, edge reads, polling, and
 * unique namespaces so test files sharing one stack never see each other's keys.
 */
import { mintTestAdminToken } from "../../support/admin-token";
import { uniqueNamespace as namespaceWithPrefix } from "../../support/names";
import type { ProvidedStack } from "./provided";

export interface StackUrls {
  edgeUrl: string;
  originUrl: string;
  secrets: ProvidedStack["secrets"];
}

/** A namespace no other test file uses: `<prefix>-<10 hex chars>`. */
export const uniqueNamespace = (prefix = "e2e"): string => namespaceWithPrefix(prefix);

export function adminTokenFor(stack: StackUrls, scope = "admin"): Promise<string> {
  return mintTestAdminToken(stack.secrets.ADMIN_JWT_SECRET, scope, { ttlSeconds: 3600, sub: "e2e" });
}

export interface Sent {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

/** Sends a request and reads the whole answer, so tests assert on plain values. */
export async function send(url: string, init: RequestInit = {}): Promise<Sent> {
  // Generous: a loaded 2-CPU machine running two workerd processes can be slow, but never hangs.
  const response = await fetch(url, { ...init, signal: init.signal ?? AbortSignal.timeout(30_000) });
  const text = await response.text();
  let json: unknown;
  try {
    json = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** An origin client with an admin token, as the CLI would use it. */
export function originClient(stack: StackUrls, token: string) {
  const call = (method: string, path: string, body?: string, headers: Record<string, string> = {}) =>
    send(`${stack.originUrl}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        ...headers,
      },
      ...(body === undefined ? {} : { body }),
    });
  return {
    call,
    publish: (key: string, body: string, headers: Record<string, string> = {}) =>
      call("PUT", `/v1/configs/${key}`, body, headers),
    get: (key: string) => call("GET", `/v1/configs/${key}`),
    remove: (key: string) => call("DELETE", `/v1/configs/${key}`),
    setNamespace: (namespace: string, settings: Record<string, unknown>) =>
      call("PUT", `/v1/namespaces/${namespace}`, JSON.stringify(settings)),
  };
}

export type OriginClient = ReturnType<typeof originClient>;

/** Calls `probe` until it returns a value (not undefined) or the time is up. */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what ?? "a condition"}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 25));
  }
}

/** Polls the edge until it serves `version` of `key`; resolves with that response. */
export function edgeServes(
  edgeUrl: string,
  key: string,
  version: number,
  options: { headers?: Record<string, string>; timeoutMs?: number; intervalMs?: number } = {},
): Promise<Sent> {
  return pollUntil(
    async () => {
      const answer = await send(`${edgeUrl}/v1/configs/${key}`, { headers: options.headers ?? {} });
      return answer.status === 200 && answer.headers.get("Config-Version") === String(version)
        ? answer
        : undefined;
    },
    {
      timeoutMs: options.timeoutMs ?? 10_000,
      intervalMs: options.intervalMs ?? 25,
      what: `${key} v${version}`,
    },
  );
}

/** Polls the edge until `key` answers `status` (e.g. 404 after a delete). */
export function edgeAnswers(
  edgeUrl: string,
  path: string,
  status: number,
  options: { headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Sent> {
  return pollUntil(
    async () => {
      const answer = await send(`${edgeUrl}${path}`, { headers: options.headers ?? {} });
      return answer.status === status ? answer : undefined;
    },
    { timeoutMs: options.timeoutMs ?? 10_000, what: `${path} → ${status}` },
  );
}

/** A field of a JSON object body, or undefined. */
export function field(body: unknown, name: string): unknown {
  return typeof body === "object" && body !== null ? (body as Record<string, unknown>)[name] : undefined;
}
