/** Trust root documents for tests (core/trust-root.ts): the signed part, before signRoot. */
import { type PrivateJwk, publicPart } from "../../core/jws";
import type { RootSigned } from "../../core/trust-root";

/** Root version `version` listing `roots` and `snapshots` (public parts), threshold 1, valid to 2099. */
export function rootSigned(
  version: number,
  roots: PrivateJwk[],
  snapshots: PrivateJwk[],
  extra: Partial<RootSigned> = {},
): RootSigned {
  return {
    type: "fleetconf-root",
    version,
    expires: "2099-01-01T00:00:00Z",
    threshold: 1,
    keys: [...roots, ...snapshots].map(publicPart),
    revoked: [],
    ...extra,
  };
}
