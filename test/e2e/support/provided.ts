/** What the e2e globalSetup hands to tests through `inject("stack")`. */
import type { FleetconfSecrets as TestSecrets } from "../../../scripts/lib/secrets";

export interface ProvidedStack {
  edgeUrl: string;
  originUrl: string;
  secrets: TestSecrets;
}

declare module "vitest" {
  export interface ProvidedContext {
    stack: ProvidedStack;
  }
}
