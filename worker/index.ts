/** The edge worker's entry: one app per isolate, so its memory tier lives as long as the isolate. */
import { newApp } from "./app";
import type { EdgeEnv } from "./env";

const app = newApp();

export default { fetch: app.fetch } satisfies ExportedHandler<EdgeEnv>;
