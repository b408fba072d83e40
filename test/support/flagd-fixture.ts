/**
 * A flagd flag-definition document (https://flagd.dev/reference/flag-definitions/) exercising
 * what OFREP tests need: a static flag, targeting with `ends_with`, a shared `$evaluators` rule,
 * `fractional` bucketing, an object flag, a disabled flag, and flag and flag-set metadata.
 */
export function demoFlags(overrides: { welcome?: string } = {}) {
  return {
    $schema: "https://flagd.dev/schema/v0/flags.json",
    metadata: { flagSetId: "demo", version: "1" },
    flags: {
      "new-checkout": {
        state: "ENABLED",
        variants: { on: true, off: false },
        defaultVariant: "on",
      },
      "welcome-text": {
        state: "ENABLED",
        variants: { plain: overrides.welcome ?? "Hello", staff: "Hello, colleague" },
        defaultVariant: "plain",
        targeting: { if: [{ $ref: "isStaff" }, "staff", null] },
        metadata: { owner: "growth" },
      },
      "color-split": {
        state: "ENABLED",
        variants: { red: "red", blue: "blue" },
        defaultVariant: "red",
        targeting: {
          fractional: [
            ["red", 50],
            ["blue", 50],
          ],
        },
      },
      limits: {
        state: "ENABLED",
        variants: { small: { rps: 10 }, large: { rps: 1000 } },
        defaultVariant: "small",
      },
      "max-items": {
        state: "ENABLED",
        variants: { few: 3, many: 30 },
        defaultVariant: "few",
      },
      retired: {
        state: "DISABLED",
        variants: { on: true, off: false },
        defaultVariant: "off",
      },
    },
    $evaluators: {
      isStaff: { ends_with: [{ var: "email" }, "@example.com"] },
    },
  };
}
