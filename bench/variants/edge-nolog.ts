/** Cost-breakdown variant: the real edge app with its per-request log line turned off. */
import { newApp } from "../../worker/app";
import type { EdgeEnv } from "../../worker/env";

const app = newApp({ log: false });

export default { fetch: app.fetch } satisfies ExportedHandler<EdgeEnv>;
