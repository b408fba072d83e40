/** `fleetconf audit`: who changed what, when — the origin's audit log, oldest first. */
import { isValidSegment } from "../../core/keys";
import { flag, integerOption, stringOption } from "../args";
import { type AuditEntry, auditPage } from "../change-control-api";
import { type Command, type CommandContext, keyArg } from "../command";
import { UsageError } from "../errors";
import { formatTime, type Output, table } from "../output";

const NAME = "audit";
const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** `--since`: a duration back from now (`90m`, `2d`), or what the origin takes (RFC 3339, epoch ms). */
export function sinceOption(raw: string | undefined, nowMs = Date.now()): string | undefined {
  if (raw === undefined) return undefined;
  const ago = /^([0-9]{1,9})([smhdw])$/.exec(raw.trim());
  if (ago?.[1] && ago[2]) return new Date(nowMs - Number(ago[1]) * (UNITS[ago[2]] ?? 1) * 1000).toISOString();
  return raw;
}

function versions(entry: AuditEntry): string {
  if (entry.fromVersion === null && entry.toVersion === null) return "";
  if (entry.fromVersion === null) return `→ v${entry.toVersion}`;
  if (entry.toVersion === null) return `v${entry.fromVersion} →`;
  return `v${entry.fromVersion} → v${entry.toVersion}`;
}

export function renderAudit(out: Output, entries: readonly AuditEntry[]): string {
  const p = out.paint;
  if (entries.length === 0) return p.dim("no entries");
  const rows = [["TIME", "ACTOR", "ACTION", "KEY", "VERSIONS", "MESSAGE"].map((h) => p.bold(h))];
  for (const e of entries) {
    rows.push([formatTime(e.at), e.actor, p.cyan(e.action), e.key ?? "", versions(e), e.message ?? ""]);
  }
  return table(rows);
}

export const auditCommand: Command = {
  name: NAME,
  summary: "Show the audit log: who changed what, when",
  usage: "audit [--namespace NS] [--key KEY] [--since TIME] [--limit N] [--all]",
  help: `Lists changes oldest first: publishes, rollbacks, deletes, rollouts, schemas, namespace settings,
minted read tokens. Without --namespace or --key it shows the log of changes that belong to no
namespace (needs the admin scope).

Options:
  --namespace NS   one namespace's log (needs publish:NS or admin)
  --key KEY        one key's entries (implies its namespace)
  --since TIME     from a time: RFC 3339, epoch milliseconds, or a duration back (90m, 12h, 7d)
  --limit N        entries per page, 1-1000 (default 100)
  --all            follow every page

Example:
  fleetconf audit --key payments/prod/flags --since 7d`,
  options: {
    namespace: { type: "string" },
    key: { type: "string" },
    since: { type: "string" },
    limit: { type: "string" },
    all: { type: "boolean" },
  },
  positionals: { min: 0, max: 0 },
  async run(ctx: CommandContext) {
    const namespace = stringOption(ctx.values, "namespace");
    if (namespace !== undefined && !isValidSegment(namespace)) {
      throw new UsageError(`invalid namespace ${JSON.stringify(namespace)}`, NAME);
    }
    const rawKey = stringOption(ctx.values, "key");
    const key = rawKey === undefined ? undefined : keyArg(rawKey, NAME);
    const limit = integerOption(ctx.values, "limit", { min: 1, max: 1000 }, NAME);
    const since = sinceOption(stringOption(ctx.values, "since"));
    const api = await ctx.api();
    const entries: AuditEntry[] = [];
    let cursor: string | undefined;
    let page: Awaited<ReturnType<typeof auditPage>>;
    do {
      ctx.out.progress(`reading the audit log… ${entries.length} entries`);
      page = await auditPage(api, { namespace, key, since, limit, cursor });
      entries.push(...page.entries);
      cursor = page.next ?? undefined;
    } while (flag(ctx.values, "all") && cursor !== undefined);
    const next = flag(ctx.values, "all") ? null : page.next;
    ctx.out.result({ namespace: page.namespace, entries, next }, renderAudit(ctx.out, entries));
    if (next) ctx.out.note(ctx.out.paint.dim("more entries: add --all, or --limit N"));
    return 0;
  },
};
