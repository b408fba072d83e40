/**
 * The real origin and edge in workerd (one Miniflare process, the bundles vitest.config.ts builds
 * at start: .build/test-origin, .build/test-edge), so CLI commands run in-process in Node — where
 * `node:util` parseArgs exists, unlike in workerd — against the real admin API on 127.0.0.1:
 * Durable Objects, KV, schemas, preconditions and purges through the EDGE binding, nothing faked.
 */
import { join } from "node:path";
import type { Readable } from "node:stream";
import { Miniflare } from "miniflare";
import { generateSecrets } from "../../../../scripts/lib/secrets";
import { mintTestAdminToken } from "../../../support/admin-token";

const ROOT = join(import.meta.dirname, "..", "..", "..", "..");
const COMPATIBILITY_DATE = "2026-04-26";
const KV = { CONFIGS: "fleetconf-configs-local" };

export interface RealOrigin {
  /** http://127.0.0.1:<port> */
  url: string;
  adminToken(scope?: string, sub?: string): Promise<string>;
  /** One admin-token request to the origin (`path` from `/v1/…`). */
  call(
    method: string,
    path: string,
    init?: { body?: string; headers?: Record<string, string> },
  ): Promise<Response>;
  dispose(): Promise<void>;
}

export async function startRealOrigin(): Promise<RealOrigin> {
  const secrets = generateSecrets();
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    workers: [
      {
        // First: the entry port answers with the origin.
        name: "fleetconf-origin",
        modules: true,
        scriptPath: join(ROOT, ".build/test-origin/index.js"),
        compatibilityDate: COMPATIBILITY_DATE,
        compatibilityFlags: ["nodejs_compat"],
        kvNamespaces: KV,
        durableObjects: {
          NAMESPACES: { className: "NamespaceStore", useSQLite: true },
          FLEET: { className: "FleetStore", useSQLite: true },
          REGISTRY: { className: "NamespaceRegistry", useSQLite: true },
        },
        bindings: { ...secrets, BUILD_VERSION: "test", PURGE_MODE: "service" },
        serviceBindings: { EDGE: "fleetconf-edge" },
      },
      {
        name: "fleetconf-edge",
        modules: true,
        scriptPath: join(ROOT, ".build/test-edge/index.js"),
        compatibilityDate: COMPATIBILITY_DATE,
        compatibilityFlags: ["nodejs_compat"],
        kvNamespaces: KV,
        bindings: {
          PUBLIC_JWKS: secrets.PUBLIC_JWKS,
          PURGE_SECRET: secrets.PURGE_SECRET,
          BUILD_VERSION: "test",
        },
        serviceBindings: { ORIGIN: "fleetconf-origin" },
      },
    ],
    // The workers' one log line per request would drown the test output.
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      stdout.resume();
      stderr.resume();
    },
  });
  const url = (await mf.ready).origin;
  const adminToken = (scope = "admin", sub = "tester") =>
    mintTestAdminToken(secrets.ADMIN_JWT_SECRET, scope, { sub });
  return {
    url,
    adminToken,
    async call(method, path, init = {}) {
      return fetch(`${url}${path}`, {
        method,
        headers: { Authorization: `Bearer ${await adminToken()}`, ...init.headers },
        ...(init.body === undefined ? {} : { body: init.body }),
      });
    },
    dispose: () => mf.dispose(),
  };
}
