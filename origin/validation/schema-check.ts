/**
 * A structural check of a JSON Schema 2020-12 document before it is stored: the validator
 * (@cfworker/json-schema) interprets whatever it is given and ignores keywords of the wrong shape
 * (`"type": 5` would accept everything), so a typo would silently stop guarding a key. This walks
 * the applicator and validation vocabularies (JSON Schema Core §10, Validation §6) and reports the
 * first malformed keyword with its location, e.g. `/properties/port/minimum: must be a number`.
 */
import { escapePointerToken } from "../../core/json-diff";
import { isLinearPattern } from "./linear-regex";

export const DIALECT_2020_12 = "https://json-schema.org/draft/2020-12/schema";

const TYPES = new Set(["array", "boolean", "integer", "null", "number", "object", "string"]);
const ONE_SCHEMA = [
  "additionalProperties",
  "propertyNames",
  "items",
  "contains",
  "not",
  "if",
  "then",
  "else",
  "unevaluatedItems",
  "unevaluatedProperties",
  "contentSchema",
];
const SCHEMA_MAPS = ["properties", "patternProperties", "$defs", "dependentSchemas", "definitions"];
const SCHEMA_LISTS = ["allOf", "anyOf", "oneOf", "prefixItems"];
const NUMBERS = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"];
const COUNTS = [
  "minLength",
  "maxLength",
  "minItems",
  "maxItems",
  "minProperties",
  "maxProperties",
  "minContains",
  "maxContains",
];
const STRINGS = ["$ref", "$id", "$anchor", "$dynamicRef", "$dynamicAnchor", "$comment", "format"];

type Json = null | boolean | number | string | Json[] | { [name: string]: Json };
type JsonObject = { [name: string]: Json };

const isObject = (v: Json | undefined): v is JsonObject =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isSchema = (v: Json | undefined): boolean => typeof v === "boolean" || isObject(v);

/** The first problem found, as `<pointer>: <what is wrong>`, or null for a well-formed schema. */
export function schemaProblem(schema: Json): string | null {
  if (!isSchema(schema)) return "(root): a schema is a JSON object or a boolean";
  if (isObject(schema) && schema.$schema !== undefined) {
    const dialect = typeof schema.$schema === "string" ? schema.$schema.replace(/#$/, "") : "";
    if (dialect !== DIALECT_2020_12) {
      return `/$schema: only ${DIALECT_2020_12} is supported (schemas are evaluated as 2020-12)`;
    }
  }
  return check(schema, "");
}

function check(schema: Json, at: string): string | null {
  if (!isObject(schema))
    return isSchema(schema) ? null : `${at || "(root)"}: must be a schema (object or boolean)`;
  const fail = (keyword: string, what: string) => `${at}/${escapePointerToken(keyword)}: ${what}`;
  for (const keyword of ONE_SCHEMA) {
    const value = schema[keyword];
    if (value === undefined) continue;
    if (keyword === "items" && Array.isArray(value)) {
      return fail(keyword, "must be a schema in 2020-12 (use prefixItems for tuples)");
    }
    const problem = check(value, `${at}/${keyword}`);
    if (problem) return problem;
  }
  for (const keyword of SCHEMA_MAPS) {
    const value = schema[keyword];
    if (value === undefined) continue;
    if (!isObject(value)) return fail(keyword, "must be an object of schemas");
    for (const [name, sub] of Object.entries(value)) {
      if (keyword === "patternProperties" && !compiles(name)) {
        return fail(
          keyword,
          `${JSON.stringify(name)} is not a regular expression RE2 accepts (no backreferences or lookaround)`,
        );
      }
      const problem = check(sub, `${at}/${keyword}/${escapePointerToken(name)}`);
      if (problem) return problem;
    }
  }
  for (const keyword of SCHEMA_LISTS) {
    const value = schema[keyword];
    if (value === undefined) continue;
    if (!Array.isArray(value) || value.length === 0)
      return fail(keyword, "must be a non-empty array of schemas");
    for (const [index, sub] of value.entries()) {
      const problem = check(sub, `${at}/${keyword}/${index}`);
      if (problem) return problem;
    }
  }
  return checkAssertions(schema, fail);
}

function checkAssertions(schema: JsonObject, fail: (keyword: string, what: string) => string): string | null {
  const type = schema.type;
  if (type !== undefined) {
    const list = Array.isArray(type) ? type : [type];
    const valid =
      list.length > 0 &&
      list.every((t) => typeof t === "string" && TYPES.has(t)) &&
      new Set(list).size === list.length;
    if (!valid) return fail("type", `must be one of ${[...TYPES].join(", ")}, or a list of them`);
  }
  for (const keyword of NUMBERS) {
    if (schema[keyword] !== undefined && !Number.isFinite(schema[keyword]))
      return fail(keyword, "must be a number");
  }
  const multipleOf = schema.multipleOf;
  if (multipleOf !== undefined && !(typeof multipleOf === "number" && multipleOf > 0)) {
    return fail("multipleOf", "must be a number above 0");
  }
  for (const keyword of COUNTS) {
    const value = schema[keyword];
    if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) >= 0)) {
      return fail(keyword, "must be a non-negative integer");
    }
  }
  for (const keyword of STRINGS) {
    if (schema[keyword] !== undefined && typeof schema[keyword] !== "string")
      return fail(keyword, "must be a string");
  }
  if (schema.pattern !== undefined && !(typeof schema.pattern === "string" && compiles(schema.pattern))) {
    return fail(
      "pattern",
      "must be a regular expression RE2 accepts (no backreferences or lookaround, at most 1024 characters)",
    );
  }
  const required = schema.required;
  if (required !== undefined && !(Array.isArray(required) && required.every((r) => typeof r === "string"))) {
    return fail("required", "must be an array of strings");
  }
  const dependentRequired = schema.dependentRequired;
  if (
    dependentRequired !== undefined &&
    !(
      isObject(dependentRequired) &&
      Object.values(dependentRequired).every((l) => Array.isArray(l) && l.every((r) => typeof r === "string"))
    )
  ) {
    return fail("dependentRequired", "must be an object of string arrays");
  }
  if (schema.enum !== undefined && !Array.isArray(schema.enum)) return fail("enum", "must be an array");
  if (schema.uniqueItems !== undefined && typeof schema.uniqueItems !== "boolean") {
    return fail("uniqueItems", "must be a boolean");
  }
  return null;
}

/**
 * Patterns are ECMA-262 with the `u` flag (JSON Schema §6.4) and must also compile with RE2, which
 * evaluates them in linear time (linear-regex.ts): no backreferences, no lookaround.
 */
function compiles(pattern: string): boolean {
  return isLinearPattern(pattern);
}
