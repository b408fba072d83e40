import { describe, expect, it } from "vitest";
import { ifMatchHolds, ifNoneMatchHits, isEntityTagList, notModifiedSince } from "../../../core";

const etag = '"7-abc"';

describe("If-None-Match (RFC 9110 §13.1.2)", () => {
  it.each([
    ["the exact tag", '"7-abc"', true],
    ["the weak form (weak comparison)", 'W/"7-abc"', true],
    ["a list containing it", '"1-x", "7-abc" , "9-y"', true],
    ["*", "*", true],
    ["another tag", '"6-abc"', false],
    ["an unquoted tag", "7-abc", false],
    ["an empty header", "", false],
  ])("with %s → %s", (_name, header, expected) => {
    expect(ifNoneMatchHits(header, etag)).toBe(expected);
  });
  it("is false when absent", () => {
    expect(ifNoneMatchHits(null, etag)).toBe(false);
  });
});

describe("If-Match (RFC 9110 §13.1.1, strong comparison)", () => {
  it("holds for the exact tag, a list, and *", () => {
    expect(ifMatchHolds('"7-abc"', etag)).toBe(true);
    expect(ifMatchHolds('"1-x", "7-abc"', etag)).toBe(true);
    expect(ifMatchHolds("*", etag)).toBe(true);
  });
  it("fails for a weak tag and another tag", () => {
    expect(ifMatchHolds('W/"7-abc"', etag)).toBe(false);
    expect(ifMatchHolds('"8-abc"', etag)).toBe(false);
  });
  it("checks entity-tag list syntax", () => {
    expect(isEntityTagList('"a", W/"b"')).toBe(true);
    expect(isEntityTagList("*")).toBe(true);
    expect(isEntityTagList("abc")).toBe(false);
    expect(isEntityTagList('"a" "b"')).toBe(false);
    expect(isEntityTagList("")).toBe(false);
  });
});

describe("If-Modified-Since (RFC 9110 §13.1.3)", () => {
  const lastModified = Date.parse("2026-01-02T03:04:05.678Z");
  it("is not modified at or after the last-modified second", () => {
    expect(notModifiedSince("Fri, 02 Jan 2026 03:04:05 GMT", lastModified)).toBe(true);
    expect(notModifiedSince("Fri, 02 Jan 2026 04:00:00 GMT", lastModified)).toBe(true);
  });
  it("is modified before it, and ignores bad dates", () => {
    expect(notModifiedSince("Fri, 02 Jan 2026 03:04:04 GMT", lastModified)).toBe(false);
    expect(notModifiedSince("yesterday", lastModified)).toBe(false);
    expect(notModifiedSince(null, lastModified)).toBe(false);
  });
});
