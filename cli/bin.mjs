#!/usr/bin/env node
// The `fleetconf` executable: loads the TypeScript CLI through tsx's ESM API, so it runs on
// Node 20 without a build step, and connects it to the real process (streams, env, signals).
import { tsImport } from "tsx/esm/api";

const { main } = await tsImport("./main.ts", import.meta.url);

// Long-running commands (agent, watch) ask for this signal; only then are SIGINT/SIGTERM
// intercepted, so a one-shot command still dies at once on Ctrl-C. A second signal forces exit.
function stopSignal() {
  const controller = new AbortController();
  const onSignal = (signal) => {
    if (controller.signal.aborted) process.exit(signal === "SIGINT" ? 130 : 143);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return controller.signal;
}

process.exitCode = await main(
  process.argv.slice(2),
  {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
  },
  { stopSignal },
);
