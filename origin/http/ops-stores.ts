/**
 * The operability Durable Objects (fleet sightings per namespace, the namespace registry), reached
 * from the env by the routes that use them. Kept out of the request's `services` so the admin
 * API's core wiring, which other modules and tests build by hand, stays as it is.
 */
import type { OriginEnv } from "../env";
import type { FleetStore } from "../store/fleet-store";
import { type NamespaceRegistry, REGISTRY_NAME } from "../store/namespace-registry";

export function fleetStore(env: OriginEnv, namespace: string): DurableObjectStub<FleetStore> {
  return env.FLEET.get(env.FLEET.idFromName(namespace));
}

export function namespaceRegistry(env: OriginEnv): DurableObjectStub<NamespaceRegistry> {
  return env.REGISTRY.get(env.REGISTRY.idFromName(REGISTRY_NAME));
}
