/**
 * Integer settings read from a worker's vars (strings): one rule for both workers, so
 * `MAX_CONFIG_BYTES`, `KV_READ_TIMEOUT_MS` and the rest accept the same spellings. Unset or blank
 * means the default; anything else must be a plain decimal integer (no sign, exponent or
 * fraction) within the range. What to do with a bad value is the caller's: the origin refuses to
 * start, the edge keeps its default so a typo cannot take reads down.
 */

export interface IntegerRule {
  default: number;
  min: number;
  max: number;
  /** Values above `max` become `max` instead of being refused (a ceiling, not a validity rule). */
  clampToMax?: boolean;
}

export type IntegerSetting = { ok: true; value: number } | { ok: false; reason: string };

const DECIMAL = /^(0|[1-9][0-9]*)$/;

export function parseIntegerSetting(
  name: string,
  raw: string | undefined,
  rule: IntegerRule,
): IntegerSetting {
  const text = raw?.trim() ?? "";
  if (text === "") return { ok: true, value: rule.default };
  const value = DECIMAL.test(text) && text.length <= 15 ? Number(text) : Number.NaN;
  if (value >= rule.min && rule.clampToMax && value > rule.max) return { ok: true, value: rule.max };
  if (Number.isSafeInteger(value) && value >= rule.min && value <= rule.max) return { ok: true, value };
  const range = rule.clampToMax ? `at least ${rule.min}` : `from ${rule.min} to ${rule.max}`;
  return {
    ok: false,
    reason: `${name} must be an integer ${range}, not ${JSON.stringify(text.slice(0, 40))}.`,
  };
}
