/**
 * What the NamespaceStore's RPC methods return. Errors thrown across a Durable Object RPC
 * boundary arrive as plain `Error`s (their class and code are lost), so expected failures travel
 * as a tagged value and the route turns them back into a `FleetconfError`.
 */
import type { ErrorCode } from "../../core";
import type { SchemaError } from "./types";

export type StoreResult<T> =
  | { ok: true; value: T }
  /**
   * `errors`: where a document broke the key's JSON Schema (`schema_violation`, 422), or which
   * member of a change set was refused (RFC 6901 pointers into the request body).
   */
  | { ok: false; code: ErrorCode; detail: string; errors?: ResultError[] };

/** A change-set member refused: `pointer` into the request body, e.g. `/changes/2/content`. */
export interface MemberError {
  pointer: string;
  detail: string;
}

export type ResultError = SchemaError | MemberError;

export function success<T>(value: T): StoreResult<T> {
  return { ok: true, value };
}

export function failure<T = never>(code: ErrorCode, detail: string, errors?: ResultError[]): StoreResult<T> {
  return errors === undefined ? { ok: false, code, detail } : { ok: false, code, detail, errors };
}
