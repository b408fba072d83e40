/** `fleetconf namespace set|get NS`: visibility and the edge's Cache-Control numbers. */

import { MAX_APPROVAL_TTL, MIN_APPROVAL_TTL } from "../../core/approval";
import { isValidSegment } from "../../core/keys";
import { MAX_FRESHNESS_TTL, MIN_FRESHNESS_TTL } from "../../core/snapshot";
import type { NamespaceDocument, NamespacePatch } from "../admin-api";
import { flag, integerOption, stringOption } from "../args";
import { type Command, type CommandContext, positional } from "../command";
import { UsageError } from "../errors";
import { type Output, table } from "../output";

const YEAR = 31_536_000;

/** A namespace argument, checked with core's segment rule (exit 2 on a typo). */
export function namespaceArg(raw: string, command: string): string {
  if (!isValidSegment(raw))
    throw new UsageError(
      `invalid namespace ${JSON.stringify(raw)}: must match [a-z0-9][a-z0-9._-]{0,63}`,
      command,
    );
  return raw;
}

export function renderNamespace(out: Output, doc: NamespaceDocument): string {
  const p = out.paint;
  const visibility = doc.visibility === "public" ? p.green("public") : p.yellow("private");
  return table([
    [p.bold("namespace"), doc.namespace],
    [
      p.bold("visibility"),
      `${visibility}${doc.visibility === "private" ? p.dim(" (read token required)") : ""}`,
    ],
    [p.bold("max-age"), `${doc.maxAge}s`],
    [p.bold("stale-while-revalidate"), `${doc.staleWhileRevalidate}s`],
    [p.bold("stale-if-error"), `${doc.staleIfError}s`],
    [p.bold("freshness-ttl"), `${doc.freshnessTtl}s`],
    [
      p.bold("approval"),
      doc.approval === "required"
        ? `${p.yellow("required")}${p.dim(` (four-eyes; requests expire after ${doc.approvalTtl}s)`)}`
        : "none",
    ],
  ]);
}

export const namespaceSetCommand: Command = {
  name: "namespace set",
  summary: "Make a namespace public or private and set its cache lifetimes",
  usage:
    "namespace set NS [--public | --private] [--max-age N] [--swr N] [--sie N] [--approval required|none] [--approval-ttl N]",
  help: `A partial update: only the given settings change. Namespaces are private until made public.

Options:
  --public        anyone may read the namespace's keys from the edge without a token
  --private       reading needs a read token (fleetconf token --read --scope read:NS)
  --max-age N     seconds a client or cache may reuse an answer (edge default 5)
  --swr N         stale-while-revalidate seconds (default 30)
  --sie N         stale-if-error seconds (default 86400)
  --freshness-ttl N  lifetime of the Config-Freshness proofs the edge serves, 60–604800 s
                  (default 86400; the origin re-signs them at half of it)
  --approval MODE  required: publishes, rollbacks, deletes, change sets and rollout starts become
                  change requests another admin approves (fleetconf changes); none: direct
  --approval-ttl N  seconds a change request stays approvable, 300–604800 (default 86400)`,
  options: {
    public: { type: "boolean" },
    private: { type: "boolean" },
    "max-age": { type: "string" },
    swr: { type: "string" },
    sie: { type: "string" },
    "freshness-ttl": { type: "string" },
    approval: { type: "string" },
    "approval-ttl": { type: "string" },
  },
  positionals: { min: 1, max: 1 },
  async run(ctx: CommandContext) {
    const name = "namespace set";
    const namespace = namespaceArg(positional(ctx, 0), name);
    const makePublic = flag(ctx.values, "public");
    const makePrivate = flag(ctx.values, "private");
    if (makePublic && makePrivate) throw new UsageError("--public and --private exclude each other", name);
    const range = { min: 0, max: YEAR };
    const patch: NamespacePatch = {};
    if (makePublic) patch.visibility = "public";
    if (makePrivate) patch.visibility = "private";
    const maxAge = integerOption(ctx.values, "max-age", range, name);
    const swr = integerOption(ctx.values, "swr", range, name);
    const sie = integerOption(ctx.values, "sie", range, name);
    if (maxAge !== undefined) patch.maxAge = maxAge;
    if (swr !== undefined) patch.staleWhileRevalidate = swr;
    if (sie !== undefined) patch.staleIfError = sie;
    const freshnessTtl = integerOption(
      ctx.values,
      "freshness-ttl",
      { min: MIN_FRESHNESS_TTL, max: MAX_FRESHNESS_TTL },
      name,
    );
    if (freshnessTtl !== undefined) patch.freshnessTtl = freshnessTtl;
    const approval = stringOption(ctx.values, "approval");
    if (approval !== undefined) {
      if (approval !== "required" && approval !== "none")
        throw new UsageError('--approval must be "required" or "none"', name);
      patch.approval = approval;
    }
    const approvalTtl = integerOption(
      ctx.values,
      "approval-ttl",
      { min: MIN_APPROVAL_TTL, max: MAX_APPROVAL_TTL },
      name,
    );
    if (approvalTtl !== undefined) patch.approvalTtl = approvalTtl;
    if (Object.keys(patch).length === 0)
      throw new UsageError("nothing to set: give --public/--private, a lifetime or --approval", name);
    const doc = await (await ctx.api()).updateNamespace(namespace, patch);
    ctx.out.result(doc, renderNamespace(ctx.out, doc));
    return 0;
  },
};

export const namespaceGetCommand: Command = {
  name: "namespace get",
  summary: "Show a namespace's visibility and cache lifetimes",
  usage: "namespace get NS",
  help: "Shows the settings the edge applies to every key in the namespace.",
  options: {},
  positionals: { min: 1, max: 1 },
  async run(ctx: CommandContext) {
    const namespace = namespaceArg(positional(ctx, 0), "namespace get");
    const doc = await (await ctx.api()).namespace(namespace);
    ctx.out.result(doc, renderNamespace(ctx.out, doc));
    return 0;
  },
};
