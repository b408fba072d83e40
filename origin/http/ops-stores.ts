/**
 * The operability Durable Objects (fleet sightings per namespace, the namespace registry), reached
 * from the env by the routes that use them. Kept out of the request's `services` so the admin
 * API's core wiring, which other modules and tests build by hand, stays as it is.
 */
import type { OriginEnv } from "../env";
import { shardCount, shardName } from "../store/fleet-shards";
import type { FleetStore } from "../store/fleet-store";
import type { NamespaceRegistry } from "../store/namespace-registry";

/**
 * The name of the one NamespaceRegistry object. Here, not beside the class: the routes need only
 * the name, and importing the class module pulls in `cloudflare:workers`, which keeps the route
 * modules (and the OpenAPI document built from them) from loading outside workerd.
 */
export const REGISTRY_NAME = "registry";

export function fleetStore(env: OriginEnv, namespace: string): DurableObjectStub<FleetStore> {
  return env.FLEET.get(env.FLEET.idFromName(namespace));
}

/** One of a namespace's FleetStore shards (store/fleet-shards.ts). */
export function fleetShard(env: OriginEnv, namespace: string, shard: number): DurableObjectStub<FleetStore> {
  return env.FLEET.get(env.FLEET.idFromName(shardName(namespace, shard)));
}

/** Every FleetStore shard of a namespace, for the reads that merge them. */
export function fleetShards(env: OriginEnv, namespace: string): DurableObjectStub<FleetStore>[] {
  return Array.from({ length: shardCount(env) }, (_, i) => fleetShard(env, namespace, i));
}

export function namespaceRegistry(env: OriginEnv): DurableObjectStub<NamespaceRegistry> {
  return env.REGISTRY.get(env.REGISTRY.idFromName(REGISTRY_NAME));
}
