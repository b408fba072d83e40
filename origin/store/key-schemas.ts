/**
 * A key's JSON Schema, kept in its namespace's Durable Object beside the versions it guards, so a
 * publish and a schema change are serialised by the same lock. The invariant: every version the
 * key serves (its live version, and a rollout's candidate) matches the key's schema. Hence a
 * publish, rollback or rollout that breaks the schema is 422, and so is setting a schema that the
 * versions being served break (publish a matching version first).
 */
import { contentDigestOf, sha256 } from "../../core";
import { checkContent, compileSchema } from "../validation/json-schema";
import { commitChange } from "./commit";
import { failure, type StoreResult, success } from "./result";
import { deleteSchema, readRunningRollout, readSchema, writeSchema } from "./rollout-tables";
import type { StoreCore } from "./store-core";
import { readBody, readLive } from "./tables";
import type { ChangeMeta, SchemaInput, SchemaOutcome, SchemaRecord } from "./types";

const utf8 = new TextDecoder();

/** The failure for a document that breaks the key's schema, or null when it passes (or there is none). */
export function schemaViolation<T>(
  sql: SqlStorage,
  key: string,
  body: Uint8Array,
  what: string,
): StoreResult<T> | null {
  const schema = readSchema(sql, key);
  if (!schema) return null;
  const compiled = compileSchema(utf8.decode(schema.body));
  if (!compiled.ok) {
    // Stored schemas compiled when they were set; this only happens if the validator changed.
    return failure<T>(
      "schema_violation",
      `The stored schema of ${key} no longer compiles (${compiled.reason}); replace it.`,
    );
  }
  const check = checkContent(compiled.validator, utf8.decode(body));
  if (check.ok) return null;
  const count = check.total === 1 ? "1 error" : `${check.total} errors`;
  return failure<T>(
    "schema_violation",
    `${what} does not match the JSON Schema of ${key} (${count}).`,
    check.errors,
  );
}

/** PUT /v1/schemas/{key}: stores (or replaces) the schema, refusing one the served versions break. */
export async function putSchema(core: StoreCore, input: SchemaInput): Promise<StoreResult<SchemaOutcome>> {
  const compiled = compileSchema(utf8.decode(input.body));
  if (!compiled.ok)
    return failure("invalid_request", `Not a usable JSON Schema (2020-12): ${compiled.reason}.`);
  const digest = contentDigestOf(await sha256(input.body));
  const { sql } = core;
  return core.locked(async () => {
    const existing = readSchema(sql, input.key);
    if (existing && existing.digest === digest)
      return success({ record: existing, created: false, changed: false });
    for (const [version, role] of servedVersions(sql, input.key)) {
      const check = checkContent(compiled.validator, utf8.decode(readBody(sql, input.key, version)));
      if (!check.ok) {
        return failure<SchemaOutcome>(
          "schema_violation",
          `v${version} (${role}) of ${input.key} does not match this schema, and the served versions must; publish a matching version first.`,
          check.errors,
        );
      }
    }
    const at = Date.now();
    const record: SchemaRecord = {
      key: input.key,
      body: input.body,
      digest,
      updatedAt: at,
      updatedBy: input.actor,
    };
    // No outbox row: the edge never reads schemas, only the versions they let through.
    commitChange(core, {
      at,
      write: () => writeSchema(sql, record),
      audit: {
        actor: input.actor,
        action: "schema_set",
        key: input.key,
        message: input.message,
        fromVersion: null,
        toVersion: null,
        digest,
        detail: { schema: { from: existing?.digest ?? null, to: digest }, size: input.body.length },
      },
      outbox: null,
    });
    return success({ record, created: existing === null, changed: true });
  });
}

export function getSchema(sql: SqlStorage, key: string): StoreResult<SchemaRecord> {
  const record = readSchema(sql, key);
  return record ? success(record) : failure("not_found", `${key} has no schema.`);
}

/** DELETE /v1/schemas/{key}: publishes are no longer checked. */
export async function removeSchema(core: StoreCore, input: ChangeMeta): Promise<StoreResult<SchemaRecord>> {
  const { sql } = core;
  return core.locked(async () => {
    const existing = readSchema(sql, input.key);
    if (!existing) return failure<SchemaRecord>("not_found", `${input.key} has no schema.`);
    const at = Date.now();
    commitChange(core, {
      at,
      write: () => deleteSchema(sql, input.key),
      audit: {
        actor: input.actor,
        action: "schema_delete",
        key: input.key,
        message: input.message,
        fromVersion: null,
        toVersion: null,
        digest: existing.digest,
        detail: { schema: { from: existing.digest, to: null } },
      },
      outbox: null,
    });
    return success(existing);
  });
}

/** The versions clients may be served now: the live one and a running rollout's candidate. */
function servedVersions(sql: SqlStorage, key: string): [number, string][] {
  const served: [number, string][] = [];
  const live = readLive(sql, key);
  if (live) served.push([live.version, "the live version"]);
  const running = readRunningRollout(sql, key);
  if (running) served.push([running.candidateVersion, "the rollout candidate"]);
  return served;
}
