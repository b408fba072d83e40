/** Turns a NamespaceStore result back into a value or the FleetconfError it stands for. */
import { FleetconfError } from "../../core";
import type { StoreResult } from "../store/result";

export function unwrap<T>(result: StoreResult<T>): T {
  if (result.ok) return result.value;
  const extensions = result.errors === undefined ? {} : { errors: result.errors };
  throw new FleetconfError(result.code, result.detail, { extensions });
}
