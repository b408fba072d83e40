/**
 * `Config-Client-Status` (DESIGN §8): an RFC 8941 dictionary parsed with structured-headers;
 * fleetconf keeps `applied` and `rejected` (positive integers) and `rejected`'s `reason`.
 */
import { describe, expect, it } from "vitest";
import { formatClientStatus, MAX_REJECT_REASON_LENGTH, parseClientStatus } from "../../../core";

describe("parseClientStatus", () => {
  it("reads applied and rejected with its reason (RFC 8941 §3.2 dictionary, §3.1.2 parameters)", () => {
    expect(parseClientStatus('applied=3, rejected=4;reason="schema check failed"')).toEqual({
      applied: 3,
      rejected: 4,
      reason: "schema check failed",
    });
    expect(parseClientStatus("applied=7")).toEqual({ applied: 7, rejected: null, reason: null });
    expect(parseClientStatus("rejected=2")).toEqual({ applied: null, rejected: 2, reason: null });
  });

  it("cuts a long reason to MAX_REJECT_REASON_LENGTH", () => {
    const status = parseClientStatus(`rejected=2;reason="${"x".repeat(300)}"`);
    expect(status?.reason).toHaveLength(MAX_REJECT_REASON_LENGTH);
  });

  it.each([
    ["empty", ""],
    ["not a dictionary", "applied"],
    ["boolean member (bare key)", "applied, rejected=2"],
    ["zero", "applied=0"],
    ["negative", "applied=-1"],
    ["a decimal", "applied=1.5"],
    ["a string", 'applied="3"'],
    ["a token", "applied=v3"],
    ["an inner list", "applied=(1 2)"],
    ["an unknown member", "aplied=3"],
    ["a parameter on applied", "applied=3;x=1"],
    ["an unknown parameter on rejected", "rejected=3;why=1"],
    ["a non-string reason", "rejected=3;reason=1"],
    ["bad syntax", "applied=3,,"],
    ["too long", `applied=3, ${"x".repeat(600)}`],
  ])("refuses %s: %j", (_what, header) => {
    expect(parseClientStatus(header)).toBeNull();
  });
});

describe("formatClientStatus", () => {
  it("round-trips through parseClientStatus", () => {
    const status = { applied: 3, rejected: 4, reason: 'hook "deploy" exit 2' };
    const header = formatClientStatus(status);
    expect(header).toBe('applied=3, rejected=4;reason="hook \\"deploy\\" exit 2"');
    expect(parseClientStatus(header ?? "")).toEqual(status);
  });

  it("replaces characters an sf-string cannot hold, and says nothing when there is nothing to say", () => {
    expect(formatClientStatus({ applied: null, rejected: 2, reason: "bad\nline é" })).toBe(
      'rejected=2;reason="bad?line ?"',
    );
    expect(formatClientStatus({ applied: null, rejected: null, reason: null })).toBeNull();
  });
});
