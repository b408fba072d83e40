/**
 * Config content checked against a key's JSON Schema (2020-12) with @cfworker/json-schema, an
 * interpreter: Ajv is not an option because it compiles schemas to JavaScript at run time, which
 * Workers forbid (no `eval`/`new Function`). A schema is checked once when it is stored (shape,
 * dialect, resolvable `$ref`s), so evaluating it at publish time does not fail for its own reasons.
 */
import {
  dereference,
  ignoredKeyword,
  type OutputUnit,
  type Schema,
  schemaArrayKeyword,
  Validator,
} from "@cfworker/json-schema";
import type { SchemaError } from "../store/types";
import { withLinearPatterns } from "./linear-regex";
import { schemaProblem } from "./schema-check";

/** At most this many errors are reported per document; `total` says how many there were. */
export const MAX_SCHEMA_ERRORS = 50;

export type CompiledSchema = { ok: true; validator: Validator } | { ok: false; reason: string };

export type ContentCheck = { ok: true } | { ok: false; errors: SchemaError[]; total: number };

// biome-ignore lint/suspicious/noExplicitAny: the library's Schema type is `{ [key: string]: any }`.
type Walkable = { [key: string]: any };

/** Parses and checks a schema document (already strict JSON, core/json.ts) and builds its validator. */
export function compileSchema(text: string): CompiledSchema {
  const value = JSON.parse(text) as Parameters<typeof schemaProblem>[0];
  const problem = schemaProblem(value);
  if (problem !== null) return { ok: false, reason: problem };
  let validator: Validator;
  let lookup: Record<string, unknown>;
  try {
    // The same table the validator builds for itself, to check every $ref resolves in it.
    lookup = dereference(value as Schema | boolean);
    // shortCircuit=false: report every error, not only the first.
    validator = new Validator(value as Schema | boolean, "2020-12", false);
  } catch (error) {
    return { ok: false, reason: messageOf(error) };
  }
  const unresolved = unresolvedRef(value as Walkable, lookup);
  if (unresolved !== null) {
    return {
      ok: false,
      reason: `$ref ${JSON.stringify(unresolved)} does not resolve inside the schema (remote references are not fetched)`,
    };
  }
  return { ok: true, validator };
}

/** Validates a document's text; errors point into the document with RFC 6901 JSON Pointers. */
export function checkContent(validator: Validator, contentText: string): ContentCheck {
  const instance: unknown = JSON.parse(contentText);
  let units: OutputUnit[];
  try {
    // Patterns run on RE2 within a budget (linear-regex.ts), never on the backtracking engine.
    const result = withLinearPatterns(() => validator.validate(instance));
    if (result.valid) return { ok: true };
    units = result.errors;
  } catch (error) {
    // E.g. a member name the library cannot encode: refuse rather than let the document through.
    const message = `the schema could not be evaluated against this document: ${messageOf(error)}`;
    return { ok: false, errors: [{ pointer: "", message, keyword: "", schemaLocation: "" }], total: 1 };
  }
  // An applicator (properties, items, $ref…) reports a summary above the errors of its subschemas;
  // keep only the most specific ones, which name the exact place and rule.
  const leaves = units.filter(
    (unit) => !units.some((other) => other.keywordLocation.startsWith(`${unit.keywordLocation}/`)),
  );
  return { ok: false, errors: leaves.slice(0, MAX_SCHEMA_ERRORS).map(toSchemaError), total: leaves.length };
}

function toSchemaError(unit: OutputUnit): SchemaError {
  return {
    pointer: fromUriFragment(unit.instanceLocation),
    message: unit.error,
    keyword: unit.keyword,
    schemaLocation: fromUriFragment(unit.keywordLocation),
  };
}

/** The library writes locations as URI fragments (`#/a%20b`); clients want plain JSON Pointers. */
function fromUriFragment(location: string): string {
  const fragment = location.startsWith("#") ? location.slice(1) : location;
  try {
    return decodeURIComponent(fragment);
  } catch {
    return fragment;
  }
}

/** The first `$ref` in the schema that its own lookup table cannot resolve, or null. */
function unresolvedRef(schema: Walkable | boolean, lookup: Record<string, unknown>): string | null {
  if (typeof schema !== "object" || schema === null) return null;
  if (!Array.isArray(schema) && typeof schema.$ref === "string") {
    // Set (non-enumerable) by the library's dereference: the reference resolved against $id.
    const absolute: unknown = schema.__absolute_ref__;
    if (lookup[typeof absolute === "string" ? absolute : schema.$ref] === undefined) return schema.$ref;
  }
  // Walk where the library's dereference walks: not into data keywords (enum, const, default…),
  // and into arrays only for the keywords whose items are schemas.
  for (const [name, child] of Object.entries(schema)) {
    if (ignoredKeyword[name] || typeof child !== "object" || child === null) continue;
    const children = Array.isArray(child) ? (schemaArrayKeyword[name] ? child : []) : [child];
    for (const item of children) {
      const found = unresolvedRef(item as Walkable, lookup);
      if (found !== null) return found;
    }
  }
  return null;
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  // The library appends the list of known schema URIs after a newline: keep the first line.
  return text.split("\n")[0] ?? text;
}
