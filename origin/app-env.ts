/** The origin's Hono environment: its bindings and the per-request variables handlers may read. */
import type { RequestVariables, VerifiedToken } from "../core";
import type { OriginConfig } from "./config";
import type { OriginEnv } from "./env";
import type { NamespaceStore } from "./store/namespace-store";

/** Built once per request by the `init` middleware from the isolate's parsed configuration. */
export interface Services {
  config: OriginConfig;
  /** The Durable Object that owns a namespace. */
  store(namespace: string): DurableObjectStub<NamespaceStore>;
}

export interface OriginVariables extends RequestVariables {
  services: Services;
  /** The verified admin token of the caller (set by adminAuth on /v1/*). */
  caller: VerifiedToken;
}

export type OriginApp = { Bindings: OriginEnv; Variables: OriginVariables };
