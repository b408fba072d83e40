/**
 * A/B of the fleet recording's cost on the hot path (docs/operations.md, "Fleet view"): one real
 * stack (edge + origin under `wrangler dev`), a public 4 KiB-ish key served from isolate memory,
 * and interleaved rounds of GETs without Config-Client-Id (A: nothing recorded) and with it
 * (B: one Map set per request plus a batch to the origin every 2 s). Prints the rps ratio B/A.
 *   npx tsx bench/fleet-recording-ab.ts [--rounds 3] [--seconds 5] [--connections 16]
 */
import { parseArgs } from "node:util";
import { startStack } from "../test/e2e/support/stack";
import { runLoad, wrkAvailable } from "./lib/load";

const { values } = parseArgs({
  options: { rounds: { type: "string" }, seconds: { type: "string" }, connections: { type: "string" } },
});
const rounds = Number(values.rounds ?? 3);
const seconds = Number(values.seconds ?? 5);
const connections = Number(values.connections ?? 16);

const stack = await startStack();
try {
  const token = await stack.adminToken();
  const admin = (method: string, path: string, body: string) =>
    fetch(`${stack.originUrl}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body,
    });
  await admin("PUT", "/v1/namespaces/benchab", JSON.stringify({ visibility: "public", maxAge: 60 }));
  const doc = JSON.stringify({
    flags: Array.from({ length: 100 }, (_, i) => ({ name: `flag-${i}`, on: i % 2 === 0 })),
  });
  const put = await admin("PUT", "/v1/configs/benchab/svc/flags", doc);
  if (put.status !== 201) throw new Error(`seed publish answered ${put.status}`);
  const url = `${stack.edgeUrl}/v1/configs/benchab/svc/flags`;
  for (let i = 0; i < 50; i++)
    await (await fetch(url, { headers: { "Config-Client-Id": "warm" } })).arrayBuffer();
  const tool = wrkAvailable() ? "wrk" : "autocannon";
  const a: number[] = [];
  const b: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const plain = await runLoad({ url, connections, durationS: seconds, tool });
    const recorded = await runLoad({
      url,
      connections,
      durationS: seconds,
      tool,
      headers: { "Config-Client-Id": `bench-client-${round}` },
    });
    a.push(plain.rps);
    b.push(recorded.rps);
    console.log(
      `round ${round + 1}: without id ${plain.rps.toFixed(0)} rps, with id ${recorded.rps.toFixed(0)} rps`,
    );
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;
  const view = await (
    await fetch(`${stack.originUrl}/v1/configs/benchab/svc/flags/fleet?window=600`, {
      headers: { Authorization: `Bearer ${token}` },
    })
  ).json();
  console.log(
    JSON.stringify({
      tool,
      rounds,
      seconds,
      connections,
      medianWithoutId: median(a),
      medianWithId: median(b),
      ratio: median(b) / median(a),
      fleet: view,
    }),
  );
} finally {
  await stack.stop();
}
