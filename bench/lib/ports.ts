/**
 * Ports for benchmark servers, handed out from the bench's own range (19000–19199) so runs never
 * collide with `npm run dev` (8787/8788) or another engineer's stack. Each port is checked free
 * by binding it on 127.0.0.1 before it is handed out.
 */
import { createServer } from "node:net";

export const PORT_RANGE = { first: 19000, last: 19199 } as const;

let next: number = PORT_RANGE.first;

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** The next free port of the range; wraps once, then gives up. */
export async function allocatePort(): Promise<number> {
  for (let tries = 0; tries <= PORT_RANGE.last - PORT_RANGE.first; tries++) {
    const port = next;
    next = next >= PORT_RANGE.last ? PORT_RANGE.first : next + 1;
    if (await isFree(port)) return port;
  }
  throw new Error(`no free port in ${PORT_RANGE.first}-${PORT_RANGE.last}`);
}

export async function allocatePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await allocatePort());
  return ports;
}
