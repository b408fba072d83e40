/**
 * The origin worker's bindings, vars and secrets (origin/wrangler.toml + .dev.vars /
 * `wrangler secret put`). Declared by hand: see worker/env.ts for why. The vars and secrets are
 * env-vars.ts; the Durable Objects take only what they use (store/store-core.ts), never this type.
 */
import type { OriginVars } from "./env-vars";
import type { FleetStore } from "./store/fleet-store";
import type { NamespaceRegistry } from "./store/namespace-registry";
import type { NamespaceStore } from "./store/namespace-store";

export interface OriginEnv extends OriginVars {
  CONFIGS: KVNamespace;
  NAMESPACES: DurableObjectNamespace<NamespaceStore>;
  /** Per namespace: the last time each client was seen at the edge, and its version (fleet view). */
  FLEET: DurableObjectNamespace<FleetStore>;
  /** One object listing the namespaces the origin has changed (GET /v1/status). */
  REGISTRY: DurableObjectNamespace<NamespaceRegistry>;
}
