/**
 * What the NamespaceStore's RPC methods return. Errors thrown across a Durable Object RPC
 * boundary arrive as plain `Error`s (their class and code are lost), so expected failures travel
 * as a tagged value and the route turns them back into a `FleetconfError`.
 */
import type { ErrorCode } from "../../core";

export type StoreResult<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; detail: string };

export function success<T>(value: T): StoreResult<T> {
  return { ok: true, value };
}

export function failure<T = never>(code: ErrorCode, detail: string): StoreResult<T> {
  return { ok: false, code, detail };
}
