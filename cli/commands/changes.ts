/**
 * `fleetconf changes list|show|approve|reject NS …`: four-eyes review of the change requests a
 * namespace with `approval: required` holds (docs/operations.md, "Approvals (four-eyes)"), and
 * the line every held write prints.
 */
import { CHANGE_REQUEST_STATES, type ChangeRequestState, parseChangeRequestId } from "../../core/approval";
import { changesOf, parsePatch } from "../../core/json-patch";
import type { Held } from "../admin-api";
import { integerOption, stringOption } from "../args";
import {
  type ChangeRequestDocument,
  type ChangeRequestList,
  decideChangeRequest,
  heldLine,
  listChangeRequests,
  type ShownRequest,
  showChangeRequest,
} from "../change-requests-api";
import { type Command, type CommandContext, positional } from "../command";
import { renderChanges } from "../diff-render";
import { UsageError } from "../errors";
import { formatTime, type Output, table } from "../output";
import { namespaceArg } from "./namespace";

const STATES = [...CHANGE_REQUEST_STATES, "all"] as const;

/** What a write the origin held prints (exit 0): with --json, the request document. */
export function reportHeld(out: Output, held: Held): number {
  out.result({ changeRequest: held.held }, `${out.paint.yellow("⧗")} ${heldLine(held)}`);
  return 0;
}

export function parseRequestId(raw: string, command: string): number {
  try {
    return parseChangeRequestId(raw);
  } catch {
    throw new UsageError(`invalid change request id ${JSON.stringify(raw)}`, command);
  }
}

export function parseStateOption(
  raw: string | undefined,
  command: string,
): ChangeRequestState | "all" | undefined {
  if (raw === undefined) return undefined;
  const state = STATES.find((s) => s === raw);
  if (!state) throw new UsageError(`--state must be one of ${STATES.join(", ")}`, command);
  return state;
}

function what(request: ChangeRequestDocument): string {
  if (request.kind === "changes") return `change set of ${request.keys.length} keys`;
  if (request.kind === "rollback") return `rollback of ${request.key} to v${request.to}`;
  if (request.kind === "delete") return `delete of ${request.key}`;
  return `${request.rollout ? "rollout start" : "publish"} of ${request.key}`;
}

function stateText(out: Output, state: string): string {
  const p = out.paint;
  if (state === "pending") return p.yellow(state);
  if (state === "approved") return p.green(state);
  return p.red(state);
}

export function renderRequestList(out: Output, page: ChangeRequestList): string {
  if (page.changeRequests.length === 0) return out.paint.dim(`no change requests in ${page.namespace}`);
  const rows = page.changeRequests.map((r) => [
    out.paint.bold(String(r.id)),
    stateText(out, r.state),
    what(r),
    r.author,
    formatTime(r.createdAt),
    r.message ?? "",
  ]);
  const more = page.next ? `\n${out.paint.dim(`more: --cursor ${page.next}`)}` : "";
  return `${table([["id", "state", "change", "author", "created", "message"].map((h) => out.paint.dim(h)), ...rows])}${more}`;
}

export function renderRequest(out: Output, shown: ShownRequest): string {
  const r = shown.changeRequest;
  const p = out.paint;
  const rows: string[][] = [
    [p.bold("request"), `${r.namespace}/${r.id}`],
    [p.bold("state"), stateText(out, r.state)],
    [p.bold("change"), what(r)],
    [p.bold("author"), r.author],
    [p.bold("created"), formatTime(r.createdAt)],
    [p.bold("expires"), formatTime(r.expiresAt)],
  ];
  if (r.message) rows.push([p.bold("message"), r.message]);
  if (r.kind === "changes") rows.push([p.bold("keys"), r.keys.join(", ")]);
  if (r.digest) rows.push([p.bold("digest"), p.dim(r.digest)]);
  if (r.ifMatch) rows.push([p.bold("if-match"), r.ifMatch]);
  if (r.kind !== "changes" && r.state === "pending")
    rows.push([p.bold("reviewed on"), r.baseEtag ?? "no version (the key is created)"]);
  // A rollout start's schedule, ring and gates as the origin parsed them: what approving starts.
  if (r.rollout)
    rows.push([p.bold("rollout"), JSON.stringify(r.rollout, (_k, v) => (v === null ? undefined : v))]);
  if (r.decidedBy) rows.push([p.bold("decided"), `${r.decidedBy} at ${formatTime(r.decidedAt ?? "")}`]);
  if (r.reason) rows.push([p.bold(r.state === "approved" ? "note" : "reason"), r.reason]);
  if (r.resultVersion !== null) rows.push([p.bold("version"), `v${r.resultVersion}`]);
  const rendered = (ops: unknown) => {
    const patch = parsePatch(ops);
    const changes = patch === null ? null : changesOf(patch);
    return changes === null ? p.dim("(no readable diff)") : renderChanges(changes, p);
  };
  const diff = shown.diff === null ? "" : `\n\n${rendered(shown.diff)}`;
  const members = (shown.members ?? []).map(
    (m) => `\n\n${p.bold(m.key)}${m.delete ? `: ${p.red("delete")}` : `\n${rendered(m.diff)}`}`,
  );
  return `${table(rows)}${diff}${members.join("")}`;
}

export const changesListCommand: Command = {
  name: "changes list",
  summary: "List a namespace's change requests (four-eyes), newest first",
  usage: "changes list NS [--state pending|approved|rejected|expired|failed|all] [--limit N] [--cursor C]",
  help: `Shows the requests a namespace with approval required holds (default: the pending ones).

Options:
  --state STATE   which requests (default pending)
  --limit N       page size, 1–1000 (default 50)
  --cursor C      the next page, as printed after a full page`,
  options: { state: { type: "string" }, limit: { type: "string" }, cursor: { type: "string" } },
  positionals: { min: 1, max: 1 },
  async run(ctx: CommandContext) {
    const name = "changes list";
    const namespace = namespaceArg(positional(ctx, 0), name);
    const state = parseStateOption(stringOption(ctx.values, "state"), name);
    const limit = integerOption(ctx.values, "limit", { min: 1, max: 1000 }, name);
    const cursor = stringOption(ctx.values, "cursor");
    const page = await listChangeRequests(await ctx.api(), namespace, {
      ...(state === undefined ? {} : { state }),
      ...(limit === undefined ? {} : { limit }),
      ...(cursor === undefined ? {} : { cursor }),
    });
    ctx.out.result(page, renderRequestList(ctx.out, page));
    return 0;
  },
};

export const changesShowCommand: Command = {
  name: "changes show",
  summary: "Show one change request, with the diff a pending publish would make",
  usage: "changes show NS ID",
  help: "Who asked for what and why, and for a pending publish the diff against the key's live content.",
  options: {},
  positionals: { min: 2, max: 2 },
  async run(ctx: CommandContext) {
    const name = "changes show";
    const namespace = namespaceArg(positional(ctx, 0), name);
    const id = parseRequestId(positional(ctx, 1), name);
    const shown = await showChangeRequest(await ctx.api(), namespace, id);
    ctx.out.result(shown, renderRequest(ctx.out, shown));
    return 0;
  },
};

export const changesApproveCommand: Command = {
  name: "changes approve",
  summary: "Approve and apply a pending change request (another admin than its author)",
  usage: "changes approve NS ID [-m MESSAGE]",
  help: `Applies the change now, exactly as requested. Needs publish:NS or admin, and a token whose
subject differs from the author's (the origin answers 403 otherwise). If the change can no longer
apply (the key moved on: 412; a rollout runs: 409) the request fails and nothing changes.

Options:
  -m, --message TEXT  a note for the audit log`,
  options: { message: { type: "string", short: "m" } },
  positionals: { min: 2, max: 2 },
  async run(ctx: CommandContext) {
    const name = "changes approve";
    const namespace = namespaceArg(positional(ctx, 0), name);
    const id = parseRequestId(positional(ctx, 1), name);
    const message = stringOption(ctx.values, "message");
    const decided = await decideChangeRequest(await ctx.api(), namespace, id, {
      approve: true,
      ...(message === undefined ? {} : { message }),
    });
    const r = decided.changeRequest;
    const version = r.resultVersion === null ? "" : ` as ${ctx.out.paint.bold(`v${r.resultVersion}`)}`;
    ctx.out.result(
      decided,
      `${ctx.out.paint.green("✔")} approved ${namespace}/${id}: ${what(r)} applied${version}`,
    );
    return 0;
  },
};

export const changesRejectCommand: Command = {
  name: "changes reject",
  summary: "Reject (or withdraw your own) pending change request",
  usage: "changes reject NS ID --reason TEXT",
  help: `Nothing is applied; the reason goes to the request and the audit log. The author may reject
their own request to withdraw it.

Options:
  --reason TEXT   required: why`,
  options: { reason: { type: "string" } },
  positionals: { min: 2, max: 2 },
  async run(ctx: CommandContext) {
    const name = "changes reject";
    const namespace = namespaceArg(positional(ctx, 0), name);
    const id = parseRequestId(positional(ctx, 1), name);
    const reason = stringOption(ctx.values, "reason");
    if (!reason) throw new UsageError("rejecting needs --reason TEXT", name);
    const decided = await decideChangeRequest(await ctx.api(), namespace, id, { approve: false, reason });
    ctx.out.result(
      decided,
      `${ctx.out.paint.red("✘")} rejected ${namespace}/${id}: ${what(decided.changeRequest)}`,
    );
    return 0;
  },
};
