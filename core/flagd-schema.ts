/**
 * Which configs are flagd flag definitions, and checking one against flagd's published JSON
 * Schema as @openfeature/flagd-core ships it: the package carries the schema precompiled (an Ajv
 * standalone validator, so no code generation at run time, which Workers forbid) and runs it in
 * `setConfigurations(text, true)`. The origin calls this at publish (docs/openfeature.md), so the
 * edge's OFREP evaluation, done by the same library, never meets a document flagd would refuse.
 */
import { FlagdCore } from "@openfeature/flagd-core";

/** flagd's `$schema` URL for flag definitions, which editors and flagd's docs put in the file. */
export const FLAGD_SCHEMA_URL = "https://flagd.dev/schema/v0/flags.json";

/** At most this many schema errors are reported (the detail gives the count). */
const MAX_ERRORS = 50;

/** A refused document's flags are loaded one by one to name the culprit, at most this many. */
const MAX_FLAGS_PROBED = 1000;

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

/**
 * Checks a published document (already strict JSON) when its key is flagd-format; any other
 * document passes untouched.
 */
export function checkFlagdDocument(key: string, text: string): FlagdCheck {
  // Most documents are not flag definitions: skip the parse unless the key or text says flagd.
  if (!isFlagsKey(key) && !text.includes(FLAGD_SCHEMA_URL)) return { ok: true };
  const document: unknown = JSON.parse(text);
  if (!isFlagdDocument(key, document)) return { ok: true };
  const flags = (document as { flags?: unknown }).flags;
  if (typeof flags !== "object" || flags === null || Array.isArray(flags)) {
    // flagd-core loads a document without `flags` as an empty set; a flags key without any is a mistake.
    return {
      ok: false,
      detail: `${key} holds flagd flag definitions and this document has no "flags" object.`,
      errors: [
        {
          pointer: "/flags",
          message: "must be an object of flag definitions",
          keyword: "required",
          schemaLocation: "",
        },
      ],
    };
  }
  const errors = schemaErrors(text);
  if (errors.length === 0) return { ok: true };
  const count = errors.length === 1 ? "1 error" : `${errors.length} errors`;
  return {
    ok: false,
    detail: `${key} holds flagd flag definitions and this document does not match flagd's flag-definition JSON Schema (${count}).`,
    errors: errors.slice(0, MAX_ERRORS),
  };
}

/**
 * `setConfigurations(text, strictValidation)`: flagd-core 4.0.1's JavaScript takes the second
 * argument (its schema check throws instead of logging), its published typings list only the first.
 */
const loadStrictly = (core: FlagdCore, text: string): void => {
  (
    core.setConfigurations as (this: FlagdCore, flagConfig: string, strictValidation: boolean) => string[]
  ).call(core, text, true);
};

/**
 * What flagd-core refuses to load: its precompiled schema check (strict mode) and its own checks
 * of each flag (a known `state`, a `defaultVariant` among the `variants`). flagd-core wraps the
 * reason in a generic ParseError; the specific sentence is its `cause`.
 */
function schemaErrors(text: string): FlagdSchemaError[] {
  try {
    loadStrictly(new FlagdCore(), text);
    return [];
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    const message = cause instanceof Error ? cause.message : String(cause);
    return [{ pointer: flagPointer(text), message, keyword: "flagd", schemaLocation: "" }];
  }
}

/** Points at `/flags/<name>` of the first flag that flagd-core refuses on its own. */
function flagPointer(text: string): string {
  const document = JSON.parse(text) as { flags: Record<string, unknown>; $evaluators?: unknown };
  for (const [name, flag] of Object.entries(document.flags).slice(0, MAX_FLAGS_PROBED)) {
    try {
      loadStrictly(
        new FlagdCore(),
        JSON.stringify({ flags: { [name]: flag }, $evaluators: document.$evaluators }),
      );
    } catch {
      return `/flags/${name.replaceAll("~", "~0").replaceAll("/", "~1")}`;
    }
  }
  return "/flags";
}
