/**
 * A flags config parsed once per snapshot and evaluated per OFREP request with
 * `@openfeature/flagd-core` (the flagd evaluator the flagd JS providers use): targeting rules
 * (JsonLogic plus flagd's `fractional`, `sem_ver`, `starts_with`, `ends_with`), `$evaluators`,
 * flag and flag-set metadata. Evaluations are mapped to the OFREP response shapes
 * (open-feature/protocol `service/openapi.yaml` v0.3.0, `evaluationSuccess`/`evaluationFailure`).
 */
import {
  ErrorCode,
  type EvaluationContext,
  type FlagMetadata,
  type JsonValue,
  type Logger,
} from "@openfeature/core";
import { FlagdCore } from "@openfeature/flagd-core";
import type { PreparedSnapshot } from "../cache/prepared";

/** One flag's answer, as OFREP's single and bulk endpoints carry it. */
export type FlagEvaluation =
  | {
      key: string;
      value?: JsonValue;
      reason: string;
      variant?: string;
      metadata: FlagMetadata;
    }
  | { key: string; errorCode: OfrepErrorCode; errorDetails: string; metadata: FlagMetadata };

export type OfrepErrorCode = "PARSE_ERROR" | "TARGETING_KEY_MISSING" | "INVALID_CONTEXT" | "GENERAL";

export type ParsedFlags = { ok: true; flags: FlagdCore } | { ok: false; reason: string };

/**
 * flagd-core logs through an OpenFeature Logger; its messages name flags and rules, never
 * request data, but the edge writes its own one line per request, so they are dropped.
 */
const quietLogger: Logger = { error() {}, warn() {}, info() {}, debug() {} };

/**
 * Parsed flag sets, one per snapshot object. The memory tier keeps one `PreparedSnapshot` per
 * (key, version) while it holds it, so a hot flags key is parsed once per isolate and version;
 * the entry goes when the memory tier drops the snapshot (its byte budget bounds this too).
 */
const parsed = new WeakMap<PreparedSnapshot, ParsedFlags>();
const utf8 = new TextDecoder();

export function flagSetOf(snapshot: PreparedSnapshot): ParsedFlags {
  const known = parsed.get(snapshot);
  if (known !== undefined) return known;
  const result = parseFlagSet(utf8.decode(snapshot.body));
  parsed.set(snapshot, result);
  return result;
}

/** Parses a flagd flag-definition document; a malformed one is a PARSE_ERROR, not a throw. */
export function parseFlagSet(text: string): ParsedFlags {
  // flagd-core only logs a document that breaks flagd's schema (the origin checks the schema at
  // publish, docs/openfeature.md); a document without a `flags` map is no flag set at all.
  if (!hasFlagsMap(text)) return { ok: false, reason: 'the flags config has no "flags" object' };
  // Interpreter mode: workerd forbids `new Function`, which flagd-core's compiled mode uses.
  const flags = new FlagdCore(undefined, quietLogger, { disableDynamicCodeGeneration: true });
  try {
    flags.setConfigurations(text);
  } catch (error) {
    const detail = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return { ok: false, reason: `the flags config is not a valid flagd flag definition${detail}` };
  }
  return { ok: true, flags };
}

function hasFlagsMap(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null) return false;
    const flags: unknown = (value as { flags?: unknown }).flags;
    return typeof flags === "object" && flags !== null && !Array.isArray(flags);
  } catch {
    return false;
  }
}

/** Evaluates one flag; null when the set has no enabled flag of that name. */
export function evaluateFlag(
  flags: FlagdCore,
  key: string,
  context: EvaluationContext,
): FlagEvaluation | null {
  const flag = flags.getFlag(key);
  // A disabled flag is answered as absent (404 FLAG_NOT_FOUND, left out of bulk answers), so the
  // application's code default applies. OFREP 0.3 also allows reason DISABLED without a value,
  // but the released server provider (@openfeature/ofrep-provider 0.1.3) reads a missing value
  // as TYPE_MISMATCH; not-found gives every provider version the same, right outcome.
  if (flag === undefined || flag.state === "DISABLED") return null;
  const result = flag.evaluate(context);
  if (result.reason === "ERROR") {
    return {
      key,
      errorCode: result.errorCode === ErrorCode.PARSE_ERROR ? "PARSE_ERROR" : "GENERAL",
      errorDetails: result.errorMessage ?? `Flag ${key} could not be evaluated.`,
      metadata: result.flagMetadata,
    };
  }
  return {
    key,
    ...(result.value === undefined ? {} : { value: result.value }),
    reason: result.reason,
    ...(result.variant === undefined ? {} : { variant: result.variant }),
    metadata: result.flagMetadata,
  };
}

/** Every enabled flag, in the order of the document, as the bulk endpoint returns them. */
export function evaluateAll(flags: FlagdCore, context: EvaluationContext): FlagEvaluation[] {
  const out: FlagEvaluation[] = [];
  for (const key of flags.getFlags().keys()) {
    const evaluation = evaluateFlag(flags, key, context);
    if (evaluation !== null) out.push(evaluation);
  }
  return out;
}
