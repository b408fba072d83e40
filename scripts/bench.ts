// `npm run bench [-- --quick] [--only hot,size,...] [--tool wrk|autocannon]`: runs bench/main.ts
// in a child Node under tsx (it imports core/ and client/ TypeScript) with a global WebSocket (Node 20 needs
// the flag) for reading the edge isolate's heap through the inspector. See docs/benchmarks.md.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const child = spawn(
  process.execPath,
  [
    "--experimental-websocket",
    "--no-warnings=ExperimentalWarning",
    "--import",
    "tsx",
    "bench/main.ts",
    ...process.argv.slice(2),
  ],
  { cwd: root, stdio: "inherit" },
);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
