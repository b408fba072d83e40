/**
 * Edge tests that publish through the real origin (bound as ORIGIN in the worker project, sharing
 * KV with the edge): admin calls, a wrapper around the real ORIGIN binding that counts head reads
 * and injects faults, and the internal purge request. The origin's own purges go to an unreachable
 * zone API here, so tests purge the edge themselves, as a zone purge or the purge route would.
 */
import { mintTestAdminToken } from "../support/admin-token";
import { uniqueNamespace } from "../support/names";
import { env } from "./harness";

export function originBinding(): Fetcher {
  if (!env.ORIGIN) throw new Error("the worker project binds the real origin as ORIGIN");
  return env.ORIGIN;
}

const adminSecret = () => (env as unknown as { ADMIN_JWT_SECRET: string }).ADMIN_JWT_SECRET;

export async function admin(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  const token = await mintTestAdminToken(adminSecret(), "admin", { sub: "edge-test" });
  return originBinding().fetch(`https://origin.internal${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

export function freshKey(prefix = "hd"): { key: string; namespace: string } {
  const namespace = uniqueNamespace(prefix);
  return { key: `${namespace}/svc/conf`, namespace };
}

export async function setNamespace(namespace: string, settings: Record<string, unknown>): Promise<void> {
  const res = await admin("PUT", `/v1/namespaces/${namespace}`, settings);
  if (res.status !== 200) throw new Error(`namespace settings: ${res.status} ${await res.text()}`);
}

/** Publishes through the origin (SQLite, then KV snapshot and head); returns the new version. */
export async function publish(
  key: string,
  doc: unknown,
  headers: Record<string, string> = {},
): Promise<number> {
  const res = await admin("PUT", `/v1/configs/${key}`, doc, headers);
  if (res.status !== 201 && res.status !== 200) throw new Error(`publish: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { version: number }).version;
}

/** A public key published once through the origin. */
export async function publicKey(doc: unknown = { v: 1 }, prefix = "hd") {
  const { key, namespace } = freshKey(prefix);
  await setNamespace(namespace, { visibility: "public" });
  await publish(key, doc);
  return { key, namespace };
}

/** The real ORIGIN binding with a log of head reads and switchable faults. */
export class FlakyOrigin {
  mode: "ok" | "fail" | "500" | "hang" = "ok";
  readonly headReads: string[] = [];

  wrap = (real: Fetcher): Fetcher => {
    const fetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.pathname.startsWith("/internal/heads/")) {
        this.headReads.push(url.pathname.slice("/internal/heads/".length));
        if (this.mode === "fail") return Promise.reject(new Error("origin unreachable"));
        if (this.mode === "hang") return new Promise(() => undefined);
        if (this.mode === "500") return Promise.resolve(new Response("boom", { status: 500 }));
      }
      return real.fetch(input, init);
    };
    return { fetch, connect: real.connect.bind(real) } as Fetcher;
  };

  readsOf(key: string): number {
    return this.headReads.filter((k) => k === key).length;
  }
}

export function purgeInit(body: unknown): RequestInit {
  return {
    method: "POST",
    headers: { "Content-Type": "application/json", "Fleetconf-Purge-Secret": env.PURGE_SECRET },
    body: JSON.stringify(body),
  };
}
