/**
 * `Config-Client-Status` (DESIGN §8): an RFC 8941 dictionary parsed with structured-headers;
 * fleetconf keeps `applied` and `rejected` (positive integers) and `rejected`'s `reason`.
 */
import { describe, expect, it } from "vitest";
import {
  type ClientStatus,
  formatClientStatus,
  MAX_REJECT_REASON_LENGTH,
  mergeClientStatus,
  parseClientStatus,
} from "../../../core";

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

/** Every order of `items` (a handful: n! of them). */
function orders<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) =>
    orders([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

const NOTHING: ClientStatus = { applied: null, rejected: null, reason: null };
const status = (header: string): ClientStatus => parseClientStatus(header) ?? NOTHING;

describe("mergeClientStatus", () => {
  // What one host sends over time (test/e2e/health-gate.test.ts): each report is a poll's header.
  it.each([
    [
      "a host whose hook fails on the candidate, then applies the abort's version",
      [
        "applied=1",
        'applied=1, rejected=2;reason="hook exit 1"',
        'applied=3, rejected=2;reason="hook exit 1"',
      ],
    ],
    ["a host that never gets the candidate", ["applied=1", "applied=3"]],
    [
      "a host that applies the version it had rejected (the client clears the rejection)",
      ["applied=1", 'applied=1, rejected=2;reason="verify"', "applied=2"],
    ],
    [
      "an application that took the candidate, then failed on it (reportRejected after reportApplied)",
      ["applied=1", "applied=2", 'applied=2, rejected=2;reason="crash"'],
    ],
    [
      "an application that failed on a version, applied the next, then failed on that too",
      ['applied=2, rejected=2;reason="crash"', "applied=3", 'applied=3, rejected=3;reason="crash"'],
    ],
  ])("ends on the newest report whatever order the reports arrive in: %s", (_what, sent) => {
    const newest = status(sent.at(-1) ?? "");
    for (const order of orders(sent.map(status))) {
      expect(order.reduce(mergeClientStatus, NOTHING), JSON.stringify(order)).toEqual(newest);
    }
  });

  it("keeps the reason of the newer rejection", () => {
    expect(mergeClientStatus(status('rejected=4;reason="new"'), status('rejected=2;reason="old"'))).toEqual({
      applied: null,
      rejected: 4,
      reason: "new",
    });
  });
});
