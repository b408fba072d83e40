import { describe, expect, it } from "vitest";
import { MAX_WAIT_SECONDS, preferredWait } from "../../../core";

describe("preferredWait (RFC 7240 Prefer: wait)", () => {
  it.each([
    ["wait=10", 10],
    ["WAIT=10", 10],
    ["wait = 10", 10],
    ['wait="7"', 7],
    ["respond-async, wait=5", 5],
    ["wait=5; foo=bar", 5],
    ["handling=lenient,wait=3", 3],
    ["wait=1", 1],
    ["wait=60", 60],
  ])("reads %s as %d seconds", (header, seconds) => {
    expect(preferredWait(header)).toBe(seconds);
  });

  it("clamps a larger wait to the maximum, however large", () => {
    expect(preferredWait("wait=61")).toBe(MAX_WAIT_SECONDS);
    expect(preferredWait("wait=999999999999")).toBe(MAX_WAIT_SECONDS);
    expect(preferredWait("wait=30", 20)).toBe(20);
  });

  it("takes only the first wait preference", () => {
    expect(preferredWait("wait=2, wait=50")).toBe(2);
    expect(preferredWait("wait=x, wait=50")).toBeNull();
  });

  it.each([
    [undefined],
    [null],
    [""],
    ["wait"],
    ["wait="],
    ["wait=0"],
    ["wait=-1"],
    ["wait=1.5"],
    ["wait=abc"],
    ["wait=1e3"],
    ["wait=0x10"],
    ["waiting=10"],
    ["respond-async"],
    ['foo="a,wait=5"'],
  ])("ignores %s (never an error)", (header) => {
    expect(preferredWait(header)).toBeNull();
  });
});
