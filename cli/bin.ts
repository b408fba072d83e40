/**
 * The `fleetconf` process entry: connects the CLI (`main`) to the real process (streams, env,
 * signals). `npm run build` bundles this file into dist/cli.mjs, which `bin` points to and which
 * starts without tsx; cli/bin.mjs loads the same file through tsx in a checkout.
 */
import { main } from "./main";

// Long-running commands (agent, watch) ask for this signal; only then are SIGINT/SIGTERM
// intercepted, so a one-shot command still dies at once on Ctrl-C. A second signal forces exit.
function stopSignal(): AbortSignal {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
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
