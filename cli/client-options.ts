/**
 * Flags shared by the commands that read from the edge (`agent`, `watch`): where the edge is,
 * which JWKS to trust, how long to long-poll or how often to poll, who to say we are, and the
 * read token.
 */
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { isAbsolute, join } from "node:path";
import type { ConfigClientOptions } from "../client";
import { DEFAULT_WAIT_SECONDS, MAX_WAIT_SECONDS } from "../client/client";
import { parseJwks } from "../client/jwks";
import { parseKey } from "../core/keys";
import { flag, integerOption, type OptionSpec, type OptionValues, stringOption } from "./args";
import { CliError, UsageError } from "./errors";
import type { Io } from "./output";
import { edgeUrl, readToken } from "./settings";

export const EDGE_CLIENT_OPTIONS = {
  key: { type: "string" },
  jwks: { type: "string" },
  interval: { type: "string" },
  wait: { type: "string" },
  "no-long-poll": { type: "boolean" },
  "client-id": { type: "string" },
  cache: { type: "string" },
} as const satisfies OptionSpec;

export const EDGE_CLIENT_HELP = `  --edge URL          the edge (env FLEETCONF_EDGE, default http://127.0.0.1:8787)
  --jwks FILE|URL     the JWKS to verify signatures with: a file pins it (recommended); a URL is
                      fetched once and again only for an unknown kid (default: the edge's
                      /.well-known/jwks.json, trusted on first use)
  --wait SECONDS      long-poll: the edge may hold each conditional request this long, answering
                      as soon as the key changes (Prefer: wait, 1-60, default ${DEFAULT_WAIT_SECONDS}); where
                      the edge (or a proxy) does not hold requests, --interval paces them
  --no-long-poll      never ask the edge to hold; poll every --interval instead
  --interval SECONDS  poll at most this often when not long-polling (default 5; the edge's max-age
                      can only lengthen it)
  --token TOKEN       read token for private namespaces (env FLEETCONF_READ_TOKEN; for local dev,
                      minted from .dev.vars' TOKEN_KEYS when present)
  --client-id ID      Config-Client-Id sent to the edge (default: this host's name)`;

export interface EdgeClientSetup {
  options: ConfigClientOptions<unknown>;
  /** Set when the JWKS is trusted on first use rather than pinned: worth a warning. */
  warning: string | null;
}

const CLIENT_ID = /[^A-Za-z0-9._:-]/g;

export function defaultClientId(): string {
  return hostname().replace(CLIENT_ID, "-").slice(0, 128) || "fleetconf-agent";
}

export async function edgeClientOptions(
  key: string,
  values: OptionValues,
  io: Io,
  command: string,
  fetcher: typeof fetch,
): Promise<EdgeClientSetup> {
  const parsedKey = parseKey(key);
  if (!parsedKey.ok) throw new UsageError(`invalid key ${JSON.stringify(key)}: ${parsedKey.reason}`, command);
  const edge = edgeUrl(values, io.env);
  const intervalRaw = stringOption(values, "interval");
  let intervalMs = 5000;
  if (intervalRaw !== undefined) {
    const seconds = Number(intervalRaw);
    if (!/^[0-9]+(\.[0-9]+)?$/.test(intervalRaw) || seconds < 0.1 || seconds > 86_400) {
      throw new UsageError("--interval must be a number of seconds from 0.1 to 86400", command);
    }
    intervalMs = Math.round(seconds * 1000);
  }
  const waitSeconds = integerOption(values, "wait", { min: 1, max: MAX_WAIT_SECONDS }, command);
  const longPoll = !flag(values, "no-long-poll");
  if (!longPoll && waitSeconds !== undefined) {
    throw new UsageError("--wait and --no-long-poll exclude each other", command);
  }
  const clientId = stringOption(values, "client-id") ?? defaultClientId();
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(clientId)) {
    throw new UsageError("--client-id must be 1-128 characters of [A-Za-z0-9._:-]", command);
  }
  const token = await readToken(values, io.env, io.cwd, parsedKey.value.namespace);
  const jwksArg = stringOption(values, "jwks");
  const base: ConfigClientOptions<unknown> = {
    edge,
    key,
    intervalMs,
    longPoll,
    ...(waitSeconds === undefined ? {} : { waitSeconds }),
    clientId,
    fetch: fetcher,
    ...(token === undefined ? {} : { token }),
  };
  if (jwksArg === undefined) {
    return {
      options: { ...base, jwksUrl: `${edge}/.well-known/jwks.json` },
      warning: "no --jwks given: trusting the edge's JWKS on first use; pin one with --jwks FILE",
    };
  }
  if (/^https?:\/\//.test(jwksArg)) return { options: { ...base, jwksUrl: jwksArg }, warning: null };
  const path = isAbsolute(jwksArg) ? jwksArg : join(io.cwd, jwksArg);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new CliError(`cannot read the JWKS file ${jwksArg}: ${(error as Error).message}`, {
      code: "bad_jwks",
    });
  }
  const jwks = parseJwks(parsed);
  if (!jwks || jwks.keys.length === 0)
    throw new CliError(`${jwksArg} has no Ed25519 keys`, { code: "bad_jwks" });
  return { options: { ...base, jwks }, warning: null };
}
