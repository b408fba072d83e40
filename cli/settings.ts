/**
 * Where the CLI talks to and with which credentials, from flags first, then the environment,
 * then local development defaults: the origin at FLEETCONF_ORIGIN (default 127.0.0.1:8788), the
 * edge at FLEETCONF_EDGE (default 127.0.0.1:8787), an admin token from --token / FLEETCONF_TOKEN
 * or else minted for ten minutes from `.dev.vars`' ADMIN_JWT_SECRET.
 */
import { userInfo } from "node:os";
import type { PrivateJwk } from "../core/jws";
import { mintAdminToken, mintReadToken } from "../core/tokens";
import { type OptionValues, stringOption } from "./args";
import { devVarsPath, jsonVariable, readDevVars } from "./dev-vars";
import { CliError, UsageError } from "./errors";

export const DEFAULT_ORIGIN = "http://127.0.0.1:8788";
export const DEFAULT_EDGE = "http://127.0.0.1:8787";
const DEV_ADMIN_TTL_SECONDS = 600;
const DEV_READ_TTL_SECONDS = 3600;

type Env = Record<string, string | undefined>;

function httpUrl(raw: string, what: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`${what} must be an http(s) URL, got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`${what} must be an http(s) URL, got ${JSON.stringify(raw)}`);
  }
  return raw.replace(/\/+$/, "");
}

export function originUrl(values: OptionValues, env: Env): string {
  return httpUrl(stringOption(values, "origin") ?? env.FLEETCONF_ORIGIN ?? DEFAULT_ORIGIN, "--origin");
}

export function edgeUrl(values: OptionValues, env: Env): string {
  return httpUrl(stringOption(values, "edge") ?? env.FLEETCONF_EDGE ?? DEFAULT_EDGE, "--edge");
}

/** Who the dev tokens name as `sub`, so the audit log says which person ran the command. */
export function devSubject(): string {
  try {
    return `dev:${userInfo().username}`;
  } catch {
    return "dev";
  }
}

export async function adminToken(values: OptionValues, env: Env, cwd: string): Promise<string> {
  const explicit = stringOption(values, "token") ?? env.FLEETCONF_TOKEN;
  if (explicit) return explicit;
  const path = devVarsPath(stringOption(values, "dev-vars"), env, cwd);
  const file = await readDevVars(path);
  const secret = file?.vars.get("ADMIN_JWT_SECRET");
  if (!secret) {
    throw new CliError("no admin token", {
      code: "no_token",
      hint: `pass --token, set FLEETCONF_TOKEN, or run where ${path} has ADMIN_JWT_SECRET (npm run dev writes it)`,
    });
  }
  return mintAdminToken(secret, { scope: "admin", ttlSeconds: DEV_ADMIN_TTL_SECONDS, sub: devSubject() });
}

/**
 * The read token for the edge: --token, else FLEETCONF_READ_TOKEN, else (local development) a
 * token for the key's namespace minted from `.dev.vars`' TOKEN_KEYS and re-minted before it
 * expires, so a long-running agent or watch keeps working. Undefined means none (public namespaces).
 */
export async function readToken(
  values: OptionValues,
  env: Env,
  cwd: string,
  namespace: string,
): Promise<string | (() => Promise<string>) | undefined> {
  const explicit = stringOption(values, "token") ?? env.FLEETCONF_READ_TOKEN;
  if (explicit) return explicit;
  const file = await readDevVars(devVarsPath(stringOption(values, "dev-vars"), env, cwd));
  if (!file) return undefined;
  const keys = jsonVariable(file.vars, "TOKEN_KEYS");
  const first = Array.isArray(keys) ? (keys[0] as PrivateJwk | undefined) : undefined;
  if (!first || typeof first.d !== "string" || typeof first.kid !== "string") return undefined;
  let cached: { token: string; renewAt: number } | undefined;
  return async () => {
    if (!cached || Date.now() >= cached.renewAt) {
      const token = await mintReadToken(first, {
        scope: `read:${namespace}`,
        ttlSeconds: DEV_READ_TTL_SECONDS,
        sub: devSubject(),
      });
      cached = { token, renewAt: Date.now() + (DEV_READ_TTL_SECONDS * 1000) / 2 };
    }
    return cached.token;
  };
}
