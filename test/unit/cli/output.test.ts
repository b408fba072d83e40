/** How the CLI prints: colour only where it belongs, JSON when asked, tables and diffs people can read. */
import { describe, expect, it } from "vitest";
import { renderHistory } from "../../../cli/commands/read";
import { renderChanges, summarise } from "../../../cli/diff-render";
import { CliError } from "../../../cli/errors";
import { colourEnabled, formatBytes, formatTime, type Io, Output, table } from "../../../cli/output";
import { diffJson } from "../../../core/json-diff";

function io(tty: boolean, env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const value: Io = {
    stdout: { isTTY: tty, write: (c) => out.push(String(c)) },
    stderr: { isTTY: tty, write: (c) => err.push(String(c)) },
    stdin: { async *[Symbol.asyncIterator]() {} },
    env,
    cwd: "/",
  };
  return { value, out, err };
}

const ESC = "\u001b[";

describe("colour", () => {
  it("colours only a TTY", () => {
    expect(colourEnabled({ isTTY: true, write: () => true }, {})).toBe(true);
    expect(colourEnabled({ isTTY: false, write: () => true }, {})).toBe(false);
  });

  it("honours NO_COLOR, TERM=dumb and FORCE_COLOR", () => {
    const tty = { isTTY: true, write: () => true };
    expect(colourEnabled(tty, { NO_COLOR: "1" })).toBe(false);
    expect(colourEnabled(tty, { TERM: "dumb" })).toBe(false);
    expect(colourEnabled({ isTTY: false, write: () => true }, { FORCE_COLOR: "1" })).toBe(true);
    expect(colourEnabled(tty, { NO_COLOR: "1", FORCE_COLOR: "1" })).toBe(false);
  });

  it("prints plain text when piped and ANSI colours on a terminal, unless --no-color", () => {
    const piped = io(false);
    new Output(piped.value, { json: false }).error(new CliError("boom"));
    expect(piped.err.join("")).toBe("error: boom\n");
    const tty = io(true);
    new Output(tty.value, { json: false }).error(new CliError("boom"));
    expect(tty.err.join("")).toContain(`${ESC}31merror:`);
    const off = io(true);
    new Output(off.value, { json: false, noColor: true }).error(new CliError("boom"));
    expect(off.err.join("")).toBe("error: boom\n");
  });
});

describe("results and errors", () => {
  it("writes exactly one JSON document on stdout with --json and nothing human", () => {
    const t = io(true);
    const out = new Output(t.value, { json: true });
    out.note("human note");
    out.progress("working…");
    out.result({ version: 3 }, "published v3");
    expect(t.out.join("")).toBe('{"version":3}\n');
    expect(t.err.join("")).toBe("");
  });

  it("shows the problem detail and a hint for a failure", () => {
    const t = io(false);
    new Output(t.value, { json: false }).error(
      new CliError("PUT /v1/configs/a/b: 412 Precondition failed", {
        detail: "etag moved on",
        hint: "refetch",
      }),
    );
    expect(t.err.join("")).toBe(
      "error: PUT /v1/configs/a/b: 412 Precondition failed\n  etag moved on\n  hint: refetch\n",
    );
  });

  it("erases a progress line before printing the result", () => {
    const t = io(true);
    const out = new Output(t.value, { json: false, noColor: true });
    out.progress("fetching…");
    out.result(null, "done");
    expect(t.err.join("")).toBe("\r\u001b[2Kfetching…\r\u001b[2K");
    expect(t.out.join("")).toBe("done\n");
  });

  it("shows no progress line when stderr is not a terminal", () => {
    const t = io(false);
    new Output(t.value, { json: false }).progress("fetching…");
    expect(t.err).toEqual([]);
  });
});

describe("formatting", () => {
  it("aligns table columns by visible width, ignoring colour codes", () => {
    const text = table([
      [`${ESC}1mA${ESC}22m`, "x"],
      ["long cell", "y"],
    ]);
    const lines = text.split("\n").map((l) => l.replaceAll(`${ESC}1m`, "").replaceAll(`${ESC}22m`, ""));
    expect(lines).toEqual(["A          x", "long cell  y"]);
  });

  it("formats sizes and times", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(2048)).toBe("2.0 KiB");
    expect(formatBytes(3 * 1024 * 1024)).toBe("3.0 MiB");
    expect(formatTime("2026-01-02T03:04:05.678Z")).toBe("2026-01-02 03:04:05Z");
    expect(formatTime("not a date")).toBe("not a date");
  });

  it("renders history newest first with a hint when more pages exist", () => {
    const t = io(false);
    const text = renderHistory(
      new Output(t.value, { json: false }),
      "a/b",
      [
        {
          version: 2,
          etag: '"2-x"',
          digest: "",
          publishedAt: "2026-01-02T00:00:00Z",
          author: "dev:ana",
          message: null,
          size: 10,
        },
        {
          version: 1,
          etag: '"1-x"',
          digest: "",
          publishedAt: "2026-01-01T00:00:00Z",
          author: "dev:ana",
          message: "first",
          size: 2048,
        },
      ],
      true,
    );
    expect(text.split("\n")).toEqual([
      "VERSION  PUBLISHED             AUTHOR   SIZE     MESSAGE",
      "v2       2026-01-02 00:00:00Z  dev:ana  10 B     —",
      "v1       2026-01-01 00:00:00Z  dev:ana  2.0 KiB  first",
      "… older versions: use --limit N or --all",
    ]);
  });
});

describe("diff rendering", () => {
  const plain = new Output(io(false).value, { json: false }).paint;
  const colour = new Output(io(true).value, { json: false }).paint;

  it("prints one line per change with +, - and ~", () => {
    const changes = diffJson(
      { rps: 100, old: true, tags: ["a"] },
      { rps: 200, tags: ["a", "b"], added: { on: 1 } },
    );
    expect(renderChanges(changes, plain).split("\n")).toEqual([
      "~ /rps: 100 → 200",
      "- /old: true",
      '+ /tags/1: "b"',
      '+ /added: {"on":1}',
    ]);
    expect(summarise(changes)).toBe("2 added, 1 removed, 1 changed");
  });

  it("colours additions green, removals red and changes yellow on a terminal", () => {
    const text = renderChanges(diffJson({ a: 1, b: 2 }, { a: 3, c: 4 }), colour);
    expect(text).toContain(`${ESC}33m~${ESC}39m`);
    expect(text).toContain(`${ESC}31m-${ESC}39m`);
    expect(text).toContain(`${ESC}32m+${ESC}39m`);
  });

  it("indents long values below the line", () => {
    const long = { list: Array.from({ length: 30 }, (_, i) => `item-${i}`) };
    const text = renderChanges(diffJson({}, { long }), plain);
    expect(text.startsWith("+ /long: \n    {")).toBe(true);
  });

  it("says so when nothing changed", () => {
    expect(renderChanges([], plain)).toBe("no differences");
  });
});
