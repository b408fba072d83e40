import { describe, expect, it } from "vitest";
import { rawPath } from "../../../core";

describe("rawPath", () => {
  it("returns the path as sent, without query or fragment, never decoded", () => {
    expect(rawPath("https://edge.test/v1/configs/a/b")).toBe("/v1/configs/a/b");
    expect(rawPath("https://edge.test/v1/configs/a/b?version=2")).toBe("/v1/configs/a/b");
    expect(rawPath("https://edge.test/v1/configs/a%2Fb?x=1#f")).toBe("/v1/configs/a%2Fb");
    expect(rawPath("http://127.0.0.1:8787/healthz#top")).toBe("/healthz");
    expect(rawPath("https://edge.test/a#f?x")).toBe("/a");
  });

  it("gives / for a URL with no path", () => {
    expect(rawPath("https://edge.test")).toBe("/");
    expect(rawPath("https://edge.test?x=1")).toBe("/");
    expect(rawPath("https://edge.test?next=/a/b")).toBe("/");
    expect(rawPath("https://edge.test#/a")).toBe("/");
  });

  it("agrees with URL#pathname on normalised URLs", () => {
    for (const url of [
      "https://edge.test/",
      "https://edge.test/v1/configs/demo/web/settings?version=3",
      "http://127.0.0.1:8788/v1/namespaces/demo/tokens",
      "https://user@edge.test:8443/internal/purge?",
    ]) {
      expect(rawPath(url)).toBe(new URL(url).pathname);
    }
  });
});
