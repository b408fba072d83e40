/**
 * Flags shared by the commands that read from the edge (`agent`, `watch`): where the edge is,
 * what to trust (a pinned root, a pinned JWKS or key thumbprints; client/trust.ts), how long to long-poll or how often to poll, who to say we are, and the
 * read token.
 */
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { isAbsolute, join } from "node:path";
import type { ConfigClientOptions } from "../client";
import { isLoopbackUrl } from "../client";
import { DEFAULT_WAIT_SECONDS, MAX_WAIT_SECONDS } from "../client/client";
import { parseJwks, parseThumbprint } from "../client/jwks";
import { parseKey } from "../core/keys";
import { parseRootText } from "../core/trust-root";
import { flag, integerOption, type OptionSpec, type OptionValues, stringOption } from "./args";
import { CliError, UsageError } from "./errors";
import type { Io } from "./output";
import { edgeUrl, readToken } from "./settings";

export const EDGE_CLIENT_OPTIONS = {
  key: { type: "string" },
  jwks: { type: "string" },
  root: { type: "string" },
  thumbprint: { type: "string", multiple: true },
  "max-staleness": { type: "string" },
  interval: { type: "string" },
  wait: { type: "string" },
  "no-long-poll": { type: "boolean" },
  "client-id": { type: "string" },
  cache: { type: "string" },
} as const satisfies OptionSpec;

export const EDGE_CLIENT_HELP = `  --edge URL          the edge (env FLEETCONF_EDGE, default http://127.0.0.1:8787)
  --root FILE         pin a trust root (fleetconf-root.json, from \`fleetconf keys rotate\`):
                      its snapshot keys verify; newer roots from the edge are followed only
                      when signed by a threshold of the trusted root's keys (recommended)
  --jwks FILE|URL     pin a JWKS file: exactly those keys (rotating means a new file); a URL
                      only with --thumbprint (or a loopback edge)
  --thumbprint T      pin a snapshot key by its RFC 7638 thumbprint (repeatable): the edge's
                      JWKS is fetched, only keys with a pinned thumbprint are used
                      With none of these, only a loopback edge (development) is accepted: its
                      root or JWKS is trusted on first use, with a warning.
  --max-staleness S   report "stale" (log config.stale, --status file, exit status 75 at stop)
                      when no Config-Freshness proof younger than S seconds can be had, while
                      keeping the last good config (freeze attacks)
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
  /** Set when keys are trusted on first use rather than pinned: worth a warning. */
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
  const rootArg = stringOption(values, "root");
  const thumbArgs = (values.thumbprint ?? []) as string[];
  const stalenessRaw = stringOption(values, "max-staleness");
  let maxStalenessMs: number | undefined;
  if (stalenessRaw !== undefined) {
    if (!/^[0-9]{1,9}$/.test(stalenessRaw) || Number(stalenessRaw) < 1) {
      throw new UsageError("--max-staleness must be a whole number of seconds, at least 1", command);
    }
    maxStalenessMs = Number(stalenessRaw) * 1000;
  }
  const pins = [
    rootArg,
    jwksArg !== undefined && !/^https?:\/\//.test(jwksArg) ? jwksArg : undefined,
    thumbArgs[0],
  ];
  if (pins.filter((p) => p !== undefined).length > 1) {
    throw new UsageError("pass only one of --root, --jwks FILE or --thumbprint", command);
  }
  const base: ConfigClientOptions<unknown> = {
    edge,
    key,
    intervalMs,
    longPoll,
    ...(waitSeconds === undefined ? {} : { waitSeconds }),
    clientId,
    fetch: fetcher,
    ...(token === undefined ? {} : { token }),
    ...(maxStalenessMs === undefined ? {} : { maxStalenessMs }),
  };
  const absolute = (p: string) => (isAbsolute(p) ? p : join(io.cwd, p));
  if (rootArg !== undefined) {
    let text: string;
    try {
      text = await readFile(absolute(rootArg), "utf8");
    } catch (error) {
      throw new CliError(`cannot read the root file ${rootArg}: ${(error as Error).message}`, {
        code: "bad_root",
      });
    }
    const parsed = parseRootText(text);
    if (!parsed.ok)
      throw new CliError(`${rootArg} is not a trust root: ${parsed.reason}`, { code: "bad_root" });
    return { options: { ...base, trustRoot: parsed.value }, warning: null };
  }
  if (thumbArgs.length > 0) {
    const bad = thumbArgs.find((t) => parseThumbprint(t) === null);
    if (bad !== undefined)
      throw new UsageError(
        `--thumbprint ${JSON.stringify(bad)} is not an RFC 7638 SHA-256 thumbprint`,
        command,
      );
    const jwksUrl = jwksArg !== undefined && /^https?:\/\//.test(jwksArg) ? jwksArg : undefined;
    return {
      options: { ...base, keyThumbprints: thumbArgs, ...(jwksUrl ? { jwksUrl } : {}) },
      warning: null,
    };
  }
  if (jwksArg === undefined || /^https?:\/\//.test(jwksArg)) {
    // Nothing pinned: only a loopback edge may be trusted on first use (the SDK enforces it too).
    if (!isLoopbackUrl(edge) || (jwksArg !== undefined && !isLoopbackUrl(jwksArg))) {
      throw new UsageError(
        "pin what to trust with --root FILE, --jwks FILE or --thumbprint; trust on first use is allowed only against a loopback edge",
        command,
      );
    }
    return {
      options: { ...base, ...(jwksArg ? { jwksUrl: jwksArg } : {}) },
      warning:
        "nothing pinned: trusting the loopback edge's root or JWKS on first use (development only); pin with --root FILE",
    };
  }
  const path = absolute(jwksArg);
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
