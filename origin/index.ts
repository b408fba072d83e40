/** The origin worker: the admin API (app.ts) and the per-namespace Durable Object it writes through. */
import { newApp } from "./app";
import type { OriginEnv } from "./env";

export { FleetStore } from "./store/fleet-store";
export { NamespaceRegistry } from "./store/namespace-registry";
export { NamespaceStore } from "./store/namespace-store";

const app = newApp();

export default { fetch: app.fetch } satisfies ExportedHandler<OriginEnv>;
