/**
 * Watchdog for what another Node process started (see processes.ts). It reads lines on stdin:
 * `+<pgid>` / `-<pgid>` for process groups and `+dir:<path>` / `-dir:<path>` for temp dirs. When
 * stdin closes (the parent exited, however it died: even SIGKILL closes the pipe) it kills every
 * group still registered and then removes the dirs. This keeps a crashed or killed test run from
 * leaving wrangler and workerd processes (or their state) behind.
 */
import { rmSync } from "node:fs";
import { createInterface } from "node:readline";

const groups = new Set<number>();
const dirs = new Set<string>();

function kill(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

createInterface({ input: process.stdin }).on("line", (line) => {
  const match = /^([+-])(dir:(.+)|([0-9]+))$/.exec(line.trim());
  if (!match) return;
  const add = match[1] === "+";
  if (match[3] !== undefined) {
    if (add) dirs.add(match[3]);
    else dirs.delete(match[3]);
  } else if (add) groups.add(Number(match[4]));
  else groups.delete(Number(match[4]));
});

function removeDirsAndExit(): void {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

process.stdin.on("close", () => {
  const alive = [...groups].filter((pgid) => kill(pgid, "SIGTERM"));
  if (alive.length === 0) removeDirsAndExit();
  const deadline = Date.now() + 3000;
  const timer = setInterval(() => {
    const left = alive.filter((pgid) => kill(pgid, 0));
    if (left.length > 0 && Date.now() < deadline) return;
    for (const pgid of left) kill(pgid, "SIGKILL");
    clearInterval(timer);
    // Give SIGKILLed processes a moment to release their files.
    setTimeout(removeDirsAndExit, left.length > 0 ? 500 : 0);
  }, 100);
});
