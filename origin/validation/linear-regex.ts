/**
 * JSON Schema `pattern` / `patternProperties` (and the `regex` format) evaluated by RE2 (re2js,
 * pinned), whose running time is linear in the input: the ECMAScript engine backtracks, and
 * `^(a+)+$` against ~30 characters stalled a namespace's Durable Object for minutes (issue 14).
 * RE2 has no backreferences or lookaround; a schema using them is refused when it is stored.
 *
 * @cfworker/json-schema builds its regular expressions with `new RegExp(pattern, "u")` while it
 * validates. `withLinearPatterns` runs a validation with the global `RegExp` bound to a stand-in
 * backed by RE2 — safe because validation is synchronous (nothing else runs in the isolate until
 * it returns, and the original is restored in `finally`), and it touches only code that calls the
 * constructor by name, never regex literals. The stand-in also counts the characters matched: a
 * validation past PATTERN_BUDGET_CHARS stops with PatternBudgetExceeded (the CPU budget; a clock
 * cannot be the budget, as a Worker's clock does not advance during synchronous work).
 */
import { RE2JS } from "re2js";

/** Longest pattern accepted in a schema: RE2's program grows with it. */
export const MAX_PATTERN_CHARS = 1024;
/** Characters all of one document's pattern tests may read (4× the default 1 MiB config). */
export const PATTERN_BUDGET_CHARS = 4 * 1024 * 1024;
const CACHE_LIMIT = 256;

export class PatternBudgetExceeded extends Error {
  override readonly name = "PatternBudgetExceeded";
}

const compiled = new Map<string, RE2JS>();

/** Compiles an ECMAScript-syntax pattern with RE2, or throws (unsupported syntax, too long). */
export function compileLinear(pattern: string): RE2JS {
  const hit = compiled.get(pattern);
  if (hit) return hit;
  if (pattern.length > MAX_PATTERN_CHARS) {
    throw new SyntaxError(`pattern longer than ${MAX_PATTERN_CHARS} characters`);
  }
  const re = RE2JS.compile(RE2JS.translateRegExp(pattern));
  if (compiled.size >= CACHE_LIMIT) compiled.clear();
  compiled.set(pattern, re);
  return re;
}

/** Whether a pattern is accepted in a schema: valid ECMAScript (`u`) and within RE2's syntax. */
export function isLinearPattern(pattern: string): boolean {
  try {
    new RegExp(pattern, "u");
    compileLinear(pattern);
    return true;
  } catch {
    return false;
  }
}

let spent = 0;
/** The engine's own constructor, captured when this module loads (before any swap). */
const NativeRegExp = globalThis.RegExp;

/** What the validator gets for `new RegExp(p, "u")`: only `test` is used (validate.js, format.js). */
class LinearRegExp {
  readonly #re: RE2JS;
  constructor(pattern: string) {
    // re2js itself builds ECMAScript regexes while it translates and compiles a pattern: it gets
    // the real constructor back for that, or it would recurse into this stand-in for ever.
    const standIn = globalThis.RegExp;
    globalThis.RegExp = NativeRegExp;
    try {
      this.#re = compileLinear(pattern);
    } finally {
      globalThis.RegExp = standIn;
    }
  }
  test(input: string): boolean {
    spent += input.length + 1;
    if (spent > PATTERN_BUDGET_CHARS) {
      throw new PatternBudgetExceeded(
        `pattern matching read more than ${PATTERN_BUDGET_CHARS} characters (the validation budget)`,
      );
    }
    return this.#re.test(input);
  }
}

/** Runs a synchronous validation with RE2 behind `RegExp` and a fresh pattern budget. */
export function withLinearPatterns<T>(run: () => T): T {
  const original = globalThis.RegExp;
  spent = 0;
  globalThis.RegExp = LinearRegExp as unknown as RegExpConstructor;
  try {
    return run();
  } finally {
    globalThis.RegExp = original;
  }
}
