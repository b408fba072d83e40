/**
 * globalSetup of the vitest `e2e` project: one shared stack for every e2e file, whose URLs and
 * secrets tests read with `inject("stack")`. Tests that stop or restart a worker start their own.
 */

import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { stopChildrenOnSignals } from "../../../scripts/lib/processes";
import { REPO_ROOT, type Stack, startStack } from "./stack";
import "./provided";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // An interrupted run (Ctrl-C, CI timeout) must not leave wrangler processes behind.
  stopChildrenOnSignals();
  const started = Date.now();
  // The temp dir goes away with the stack; keep its log where CI and people can read it.
  const stack: Stack = await startStack({ saveLogTo: join(REPO_ROOT, ".build", "e2e", "shared-stack.log") });
  console.log(
    `fleetconf e2e: edge ${stack.edgeUrl}, origin ${stack.originUrl} up in ${Date.now() - started} ms (log copied to .build/e2e/shared-stack.log at the end)`,
  );
  project.provide("stack", { edgeUrl: stack.edgeUrl, originUrl: stack.originUrl, secrets: stack.secrets });
  return () => stack.stop();
}
