/** What the e2e globalSetup hands to tests through `inject("stack")`. */
import type { TestSecrets } from "../../support/test-secrets.mjs";

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
