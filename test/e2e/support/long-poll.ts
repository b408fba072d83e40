/**
 * An SDK client parked on a long-poll, for e2e tests that time publish → delivery: its fetch is
 * the real one, wrapped only to count requests in flight and record each answer's
 * `Preference-Applied`, so a test can tell a held request delivered the change (not an interval
 * poll: the client's interval is 60 s).
 */
import { type ConfigClient, createConfigClient, type Jwks } from "../../../client";
import { pollUntil } from "./http";

export interface ParkedClient {
  client: ConfigClient<unknown>;
  /** `Preference-Applied` of each answer, in order (null when absent). */
  applied: (string | null)[];
  inFlight(): number;
  /** Runs `publish`, then waits for the client to accept `version`; ms from publish's answer to it. */
  timeDelivery(version: number, publish: () => Promise<void>): Promise<number>;
}

export async function parkedClient(edge: string, key: string, jwks: Jwks): Promise<ParkedClient> {
  const applied: (string | null)[] = [];
  let inFlight = 0;
  const recording: typeof fetch = async (input, init) => {
    inFlight++;
    try {
      const response = await fetch(input, init);
      applied.push(response.headers.get("Preference-Applied"));
      return response;
    } finally {
      inFlight--;
    }
  };
  const client = createConfigClient({
    edge,
    key,
    jwks,
    intervalMs: 60_000,
    waitSeconds: 30,
    fetch: recording,
  });
  await client.ready();
  await pollUntil(async () => (inFlight === 1 ? true : undefined), { what: "the client's long-poll" });
  // Give the request time to reach the edge and be parked there.
  await new Promise((resolve) => setTimeout(resolve, 500));
  return {
    client,
    applied,
    inFlight: () => inFlight,
    async timeDelivery(version, publish) {
      const delivered = new Promise<void>((resolve) => {
        const stop = client.onChange((snapshot) => {
          if (snapshot.version === version) {
            stop();
            resolve();
          }
        });
      });
      await publish();
      const published = performance.now();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`v${version} not delivered within 10 s`)), 10_000);
      });
      await Promise.race([delivered, timeout]).finally(() => clearTimeout(timer));
      return performance.now() - published;
    },
  };
}
