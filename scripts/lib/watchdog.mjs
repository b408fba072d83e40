/**
 * Watchdog for process groups started by another Node process (see processes.mjs). It reads
 * `+<pgid>` / `-<pgid>` lines on stdin; when stdin closes (the parent exited, however it died:
 * even SIGKILL closes the pipe) it kills every group still registered. This is what keeps a
 * crashed or killed test run from leaving wrangler and workerd processes behind.
 */
import { createInterface } from "node:readline";

const groups = new Set();

function kill(pgid, signal) {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

createInterface({ input: process.stdin }).on("line", (line) => {
  const match = /^([+-])([0-9]+)$/.exec(line.trim());
  if (!match) return;
  if (match[1] === "+") groups.add(Number(match[2]));
  else groups.delete(Number(match[2]));
});

process.stdin.on("close", () => {
  const alive = [...groups].filter((pgid) => kill(pgid, "SIGTERM"));
  if (alive.length === 0) process.exit(0);
  setTimeout(() => {
    for (const pgid of alive) kill(pgid, "SIGKILL");
    process.exit(0);
  }, 3000);
});
