/**
 * What a config write (`PUT /v1/configs/{key}`) came to, for every command that writes: a version
 * (201 made one, 200 the bytes were already current; with `Config-Rollout`, the rollout started),
 * or — in a namespace whose writes need approval — `202 Accepted` with `{"changeRequest": {…}}`
 * and a `Location`: nothing is published until someone approves it (RFC 9110 §15.3.3: accepted
 * for processing, not yet acted upon). Commands describe the 202 with `describeChangeRequest`.
 */
import { z } from "@hono/zod-openapi";
import { PublishResult as PublishResultSchema, type RolloutStatus } from "../origin/contract";
import {
  type AdminApi,
  type Answer,
  documentOf,
  type PublishResult,
  type WriteOptions,
  writeHeaders,
} from "./admin-api";
import type { Output } from "./output";

/**
 * The members of a change request the CLI shows; any others pass through to `--json` untouched.
 * Deliberately loose: the change-request contract (origin/contract.ts) owns its full shape.
 */
const ChangeRequestAnswer = z.object({
  changeRequest: z.looseObject({
    id: z.union([z.string(), z.int()]).optional(),
    state: z.string().optional(),
  }),
});

export type ChangeRequest = z.infer<typeof ChangeRequestAnswer>["changeRequest"];

export type WriteOutcome =
  | { kind: "written"; write: PublishResult; rollout: z.infer<typeof RolloutStatus> | null }
  | { kind: "change-request"; changeRequest: ChangeRequest; location: string | null };

/** Reads a write's 2xx answer: a 202 is a change request, anything else a written version. */
export function writeOutcomeOf(answer: Answer): WriteOutcome {
  if (answer.status === 202) {
    const { changeRequest } = documentOf(ChangeRequestAnswer, answer);
    return { kind: "change-request", changeRequest, location: answer.headers.get("Location") };
  }
  const { rollout, ...write } = documentOf(PublishResultSchema, answer);
  return { kind: "written", write: { ...write, created: answer.status === 201 }, rollout: rollout ?? null };
}

/** `PUT /v1/configs/{key}` with the write's preconditions, note and rollout, as a WriteOutcome. */
export async function putConfig(
  api: AdminApi,
  key: string,
  body: Uint8Array,
  options: WriteOptions,
): Promise<WriteOutcome> {
  return writeOutcomeOf(
    await api.call("PUT", `/v1/configs/${key}`, { body, headers: writeHeaders(options) }),
  );
}

/** "⧗ change request 12 created for KEY: nothing is published until it is approved (Location)". */
export function describeChangeRequest(
  out: Output,
  key: string,
  outcome: { changeRequest: ChangeRequest; location: string | null },
): string {
  const p = out.paint;
  const id = outcome.changeRequest.id;
  const name = id === undefined ? "a change request" : `change request ${p.bold(String(id))}`;
  const where = outcome.location ? ` ${p.dim(`(${outcome.location})`)}` : "";
  return `${p.yellow("⧗")} ${key} needs approval: ${name} was created${where}; nothing is published until it is approved`;
}
