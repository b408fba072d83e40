/**
 * `fleetconf token`: an admin token minted locally from `.dev.vars` (HS256, DESIGN §5), or with
 * --read a read token minted by the origin (`POST /v1/tokens`, EdDSA, verified by the edge).
 */
import { isValidSegment } from "../../core/keys";
import { isReadScope } from "../../core/scopes";
import { MAX_READ_TOKEN_TTL, mintAdminToken } from "../../core/tokens";
import { flag, parseDuration, stringOption } from "../args";
import type { Command, CommandContext } from "../command";
import { devVarsPath, readDevVars } from "../dev-vars";
import { CliError, UsageError } from "../errors";
import { devSubject } from "../settings";

const NAME = "token";
const MAX_ADMIN_TTL = 30 * 86_400;
const MIN_READ_TOKEN_TTL = 60;

/** An admin scope: space-separated `admin`, `publish:{ns}`, `read:{ns}` or `alarm:{ns}` (DESIGN §5). */
export function isAdminScope(scope: string): boolean {
  const parts = scope.split(" ").filter((s) => s.length > 0);
  return (
    parts.length > 0 &&
    parts.every((part) => {
      if (part === "admin") return true;
      const match = /^(publish|read|alarm):(.+)$/.exec(part);
      return match?.[2] !== undefined && isValidSegment(match[2]);
    })
  );
}

export const tokenCommand: Command = {
  name: NAME,
  summary: "Mint an admin token (local dev) or, with --read, a read token from the origin",
  usage: "token [--scope SCOPE] [--ttl DURATION] [--sub NAME] [--read]",
  help: `Without --read: mints an admin token (aud fleetconf-admin, HS256) from ADMIN_JWT_SECRET in
.dev.vars — for local development; production admin tokens come from your identity provider.
SCOPE is space-separated: admin | publish:NS | read:NS | alarm:NS (default "admin"). TTL default 1h, max 30d.
--sub NAME sets the token's subject (default dev:<your user>): the author of the changes it makes,
so two dev admins can exercise four-eyes approval locally (an approval needs another subject).

With --read: asks the origin for a read token (aud fleetconf-read, EdDSA) that services and agents
send to the edge. --scope is required: read:NS, or read:* (every namespace, needs admin) only when
asked for by name. TTL default 1d, max 30d (the edge refuses older tokens).

Prints only the token, so it can be captured:
  export FLEETCONF_TOKEN=$(fleetconf token --scope "publish:payments" --ttl 8h)
  fleetconf token --read --scope read:payments --ttl 30d`,
  options: {
    scope: { type: "string" },
    ttl: { type: "string" },
    sub: { type: "string" },
    read: { type: "boolean" },
  },
  positionals: { min: 0, max: 0 },
  async run(ctx: CommandContext) {
    const read = flag(ctx.values, "read");
    const given = stringOption(ctx.values, "scope");
    // No default for read tokens: a token for every namespace must be asked for by name.
    if (read && given === undefined) {
      throw new UsageError("--read needs --scope read:NS (or read:* for every namespace)", NAME);
    }
    const scope = given ?? "admin";
    const ttlRaw = stringOption(ctx.values, "ttl");
    const ttl = ttlRaw === undefined ? (read ? 86_400 : 3600) : parseDuration(ttlRaw, "--ttl", NAME);
    if (read && stringOption(ctx.values, "sub") !== undefined) {
      throw new UsageError("--sub applies to admin tokens; a read token's subject is the origin's", NAME);
    }
    if (read) {
      if (!isReadScope(scope)) throw new UsageError("a read token's scope is read:NS or read:*", NAME);
      if (ttl < MIN_READ_TOKEN_TTL || ttl > MAX_READ_TOKEN_TTL) {
        throw new UsageError("--ttl of a read token must be between 60s and 30d", NAME);
      }
      const minted = await (await ctx.api()).mintReadToken(scope, ttl);
      ctx.out.note(
        ctx.out.paintErr.dim(`read token for ${minted.scope}, expires ${minted.expiresAt ?? "?"}`),
      );
      ctx.out.result({ kind: "read", ...minted }, minted.token);
      return 0;
    }
    if (!isAdminScope(scope)) throw new UsageError(`invalid admin scope ${JSON.stringify(scope)}`, NAME);
    const givenSub = stringOption(ctx.values, "sub");
    if (givenSub !== undefined && !/^[A-Za-z0-9._:@-]{1,128}$/.test(givenSub)) {
      throw new UsageError("--sub must be 1–128 characters of A-Z a-z 0-9 . _ : @ -", NAME);
    }
    if (ttl < 1 || ttl > MAX_ADMIN_TTL) throw new UsageError("--ttl must be between 1s and 30d", NAME);
    const path = devVarsPath(stringOption(ctx.values, "dev-vars"), ctx.io.env, ctx.io.cwd);
    const secret = (await readDevVars(path))?.vars.get("ADMIN_JWT_SECRET");
    if (!secret) {
      throw new CliError(`no ADMIN_JWT_SECRET in ${path}`, {
        code: "no_secret",
        hint: "run `npm run dev` once (it writes .dev.vars) or `fleetconf keys generate --write`",
      });
    }
    const token = await mintAdminToken(secret, { scope, ttlSeconds: ttl, sub: givenSub ?? devSubject() });
    const expiresAt = new Date(Date.now() + ttl * 1000).toISOString();
    ctx.out.note(ctx.out.paintErr.dim(`admin token for "${scope}", expires ${expiresAt}`));
    ctx.out.result({ kind: "admin", token, scope, expiresAt }, token);
    return 0;
  },
};
