/**
 * Which configs are flagd flag definitions, and checking one against flagd's published JSON
 * Schema (core/flagd/, v0.2.15) with @cfworker/json-schema, an interpreter (Workers forbid the
 * code generation Ajv needs). The origin calls it at publish (docs/openfeature.md), so the edge's
 * OFREP evaluation never meets a document flagd would refuse.
 */
import { type OutputUnit, type Schema, Validator } from "@cfworker/json-schema";
import flagsSchema from "./flagd/flags.json" with { type: "json" };
import targetingSchema from "./flagd/targeting.json" with { type: "json" };

/** flagd's `$schema` URL for flag definitions, which editors and flagd's docs put in the file. */
export const FLAGD_SCHEMA_URL = "https://flagd.dev/schema/v0/flags.json";

/** At most this many schema errors are reported (the detail gives the count). */
const MAX_ERRORS = 50;

export interface FlagdSchemaError {
  /** RFC 6901 JSON Pointer into the document. */
  pointer: string;
  message: string;
  keyword: string;
  schemaLocation: string;
}

export type FlagdCheck = { ok: true } | { ok: false; detail: string; errors: FlagdSchemaError[] };

/**
 * A key holds flagd flag definitions when it is `{namespace}/flags` (the key OFREP reads for a
 * namespace-scoped token, DESIGN §8) or when the document names flagd's schema in `$schema`.
 * Not every key whose last segment is `flags`: that name is common for plain JSON (DESIGN §2's
 * own example `payments/prod/flags`), which must keep publishing (docs/decisions.md).
 */
export function isFlagdDocument(key: string, document: unknown): boolean {
  if (isFlagsKey(key)) return true;
  return (
    typeof document === "object" &&
    document !== null &&
    !Array.isArray(document) &&
    (document as { $schema?: unknown }).$schema === FLAGD_SCHEMA_URL
  );
}

function isFlagsKey(key: string): boolean {
  const segments = key.split("/");
  return segments.length === 2 && segments[1] === "flags";
}

let validator: Validator | undefined;

function flagdValidator(): Validator {
  if (validator === undefined) {
    // shortCircuit=false: report every error. targeting.json is reached through flags.json's
    // relative `$ref: "./targeting.json"`, resolved against its `$id`.
    validator = new Validator(flagsSchema as Schema, "7", false);
    validator.addSchema(targetingSchema as Schema);
  }
  return validator;
}

/**
 * Checks a published document (already strict JSON) when its key is flagd-format; any other
 * document passes untouched.
 */
export function checkFlagdDocument(key: string, text: string): FlagdCheck {
  // Most documents are not flag definitions: skip the parse unless the key or text says flagd.
  if (!isFlagsKey(key) && !text.includes(FLAGD_SCHEMA_URL)) return { ok: true };
  const document: unknown = JSON.parse(text);
  if (!isFlagdDocument(key, document)) return { ok: true };
  const result = flagdValidator().validate(document);
  if (result.valid) return { ok: true };
  const units = result.errors;
  // Keep the most specific errors: an applicator's summary sits above its subschemas' errors.
  const leaves = units.filter(
    (unit) => !units.some((other) => other.keywordLocation.startsWith(`${unit.keywordLocation}/`)),
  );
  const count = leaves.length === 1 ? "1 error" : `${leaves.length} errors`;
  return {
    ok: false,
    detail: `${key} holds flagd flag definitions and this document does not match flagd's JSON Schema v0.2.15 (${count}).`,
    errors: leaves.slice(0, MAX_ERRORS).map(toError),
  };
}

function toError(unit: OutputUnit): FlagdSchemaError {
  return {
    pointer: fromFragment(unit.instanceLocation),
    message: unit.error,
    keyword: unit.keyword,
    schemaLocation: fromFragment(unit.keywordLocation),
  };
}

function fromFragment(location: string): string {
  const fragment = location.startsWith("#") ? location.slice(1) : location;
  try {
    return decodeURIComponent(fragment);
  } catch {
    return fragment;
  }
}
