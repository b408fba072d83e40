/**
 * Per-test set-up shared by the SDK's unit suites: a fresh local edge double and signer for each
 * test, and a `client()` factory whose clients are closed after the test.
 */
import { afterEach, beforeEach } from "vitest";
import {
  type ConfigClient,
  type ConfigClientError,
  type ConfigClientOptions,
  createConfigClient,
} from "../../../../client";
import { newSigner, type Signer, startTestServer, type TestServer } from "./snapshot-server";

export interface SdkHarness {
  readonly server: TestServer;
  readonly signer: Signer;
  client(options?: Partial<ConfigClientOptions<unknown>>): {
    c: ConfigClient<unknown>;
    errors: ConfigClientError[];
  };
}

/** Registers beforeEach/afterEach hooks; read `server` and `signer` inside tests only. */
export function useSdkHarness(key: string): SdkHarness {
  let server: TestServer | undefined;
  let signer: Signer | undefined;
  const clients: ConfigClient<unknown>[] = [];

  beforeEach(async () => {
    server = await startTestServer();
    signer = await newSigner();
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await server?.close();
  });

  const harness: SdkHarness = {
    get server() {
      if (!server) throw new Error("the harness server exists only inside a test");
      return server;
    },
    get signer() {
      if (!signer) throw new Error("the harness signer exists only inside a test");
      return signer;
    },
    client(options = {}) {
      const errors: ConfigClientError[] = [];
      const { server: edge, signer: keys } = harness;
      const c = createConfigClient({ edge: edge.url, key, jwks: keys.jwks, intervalMs: 20, ...options });
      c.onError((e) => errors.push(e));
      clients.push(c);
      return { c, errors };
    },
  };
  return harness;
}
