/**
 * Typed handles on the worker under test inside workerd. Both workers share one TypeScript
 * program, so `cloudflare:workers`' generic `exports`/`env` are narrowed here per part.
 */
import { env, exports } from "cloudflare:workers";

export interface FetchHandle {
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
}

/** The main worker's default export, called like a service binding. */
export const worker = (exports as unknown as { default: FetchHandle }).default;

/** The main worker's bindings, typed as that worker's Env. */
export function bindings<T>(): T {
  return env as unknown as T;
}
