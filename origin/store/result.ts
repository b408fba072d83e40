/**
 * What the NamespaceStore's RPC methods return. Errors thrown across a Durable Object RPC
 * boundary arrive as plain `Error`s (their class and code are lost), so expected failures travel
 * as a tagged value and the route turns them back into a `FleetconfError`.
 */
import type { ErrorCode } from "../../core";
import type { SchemaError } from "./types";

export type StoreResult<T> =
  | { ok: true; value: T }
  /** `errors`: where a document broke the key's JSON Schema (`schema_violation`, 422). */
  | { ok: false; code: ErrorCode; detail: string; errors?: SchemaError[] };

export function success<T>(value: T): StoreResult<T> {
  return { ok: true, value };
}

export function failure<T = never>(code: ErrorCode, detail: string, errors?: SchemaError[]): StoreResult<T> {
  return errors === undefined ? { ok: false, code, detail } : { ok: false, code, detail, errors };
}
