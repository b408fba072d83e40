/**
 * Command-line parsing and the exit-code contract: usage errors exit 2 before anything is
 * attempted, --help exits 0 for every command, failures exit 1 with a readable (or JSON) message.
 */
import { describe, expect, it } from "vitest";
import { integerOption, parseCommandArgs, parseDuration, parseVersionArg } from "../../../cli/args";
import { UsageError } from "../../../cli/errors";
import { COMMANDS, findCommand, hoistGlobalOptions } from "../../../cli/main";
import { runCli } from "./support/run-cli";

// Nothing listens here: a command that got past argument checks would fail with exit 1, not 2.
const NOWHERE = { env: { FLEETCONF_ORIGIN: "http://127.0.0.1:9", FLEETCONF_TOKEN: "t" } };

describe("dispatch and help", () => {
  it("prints the command list with no arguments and exits 2", async () => {
    const run = await runCli([]);
    expect(run.code).toBe(2);
    for (const command of COMMANDS) expect(run.stdout).toContain(command.name);
  });

  it("prints the command list for --help and `help` and exits 0", async () => {
    expect((await runCli(["--help"])).code).toBe(0);
    const help = await runCli(["help", "namespace", "set"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: fleetconf namespace set NS");
  });

  it.each(COMMANDS.map((c) => [c.name]))("answers `%s --help` with its usage and exit 0", async (name) => {
    const run = await runCli([...name.split(" "), "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Usage: fleetconf ${name}`);
    expect(run.stdout).toContain("Exit codes: 0 success, 1 failure, 2 usage error.");
  });

  it("rejects an unknown command with exit 2 and points at --help", async () => {
    const run = await runCli(["pubish", "a/b", "x.json"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown command "pubish"');
    expect(run.stderr).toContain("fleetconf --help");
  });

  it("names the subcommands of a group given alone", async () => {
    const run = await runCli(["keys"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("generate, rotate, retire");
  });

  it("finds two-word commands before one-word ones", () => {
    expect(findCommand(["namespace", "get", "ns"])?.command.name).toBe("namespace get");
    expect(findCommand(["get", "a/b"])?.command.name).toBe("get");
    expect(findCommand(["nope"])).toBeNull();
  });

  it("accepts global options before the command", () => {
    expect(hoistGlobalOptions(["--json", "--origin", "http://o", "history", "a/b"])).toEqual([
      "history",
      "a/b",
      "--json",
      "--origin",
      "http://o",
    ]);
    expect(hoistGlobalOptions(["--origin=http://o", "get", "a/b"])).toEqual([
      "get",
      "a/b",
      "--origin=http://o",
    ]);
    expect(hoistGlobalOptions(["--help"])).toEqual(["--help"]);
  });
});

describe("usage errors exit 2 without contacting the origin", () => {
  it.each([
    [["publish", "a/b"], "missing arguments"],
    [["publish", "Bad/Key", "x.json"], 'invalid key "Bad/Key"'],
    [["publish", "a/b", "x.json", "extra"], 'unexpected argument "extra"'],
    [["publish", "a/b", "x.json", "--if-match", '"1-x"', "--create"], "exclude each other"],
    [["history", "a/b", "--limit", "0"], "--limit must be an integer from 1 to 1000"],
    [["history", "a/b", "--bogus"], "Unknown option '--bogus'"],
    [["show", "a/b", "v3"], "VERSION must be a positive integer"],
    [["diff", "a/b", "1", "x"], "a version must be a positive integer"],
    [["rollback", "a/b", "-1"], "Unknown option"],
    [["delete", "a/b"], "needs --yes"],
    [["namespace", "set", "ns", "--public", "--private"], "exclude each other"],
    [["namespace", "set", "ns"], "nothing to set"],
    [["namespace", "set", "NS!", "--public"], "invalid namespace"],
    [["namespace", "set", "ns", "--max-age", "-5"], "--max-age"],
    [["token", "--scope", "root"], "invalid admin scope"],
    [["token", "--read", "--scope", "admin"], "read:NS or read:*"],
    [["token", "--ttl", "forever"], "--ttl must be a duration"],
    [["agent", "--out", "x.json"], "--key is required"],
    [["agent", "--key", "a/b"], "--out is required"],
    [["agent", "--key", "a/b", "--out", "f", "--interval", "0"], "--interval"],
    [["agent", "--key", "a/b", "--out", "f", "--wait", "61"], "--wait must be an integer from 1 to 60"],
    [["agent", "--key", "a/b", "--out", "f", "--wait", "5", "--no-long-poll"], "exclude each other"],
    [["watch", "a/b", "--client-id", "has space"], "--client-id"],
    [["get", "a/b", "--origin", "ftp://x"], "--origin must be an http(s) URL"],
  ])("%j → %s", async (argv, message) => {
    const run = await runCli(argv, NOWHERE);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });

  it("renders usage errors as JSON on stderr with --json", async () => {
    const run = await runCli(["delete", "a/b", "--json"], NOWHERE);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(JSON.parse(run.stderr)).toEqual({ error: { code: "usage", message: "deleting a/b needs --yes" } });
  });
});

describe("failures exit 1", () => {
  it("says how to reach the origin when nothing listens", async () => {
    const run = await runCli(["history", "a/b"], NOWHERE);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("cannot reach the origin at http://127.0.0.1:9");
    expect(run.stderr).toContain("hint: start it with `npm run dev`");
  });

  it("reports an error object on stderr with --json", async () => {
    const run = await runCli(["history", "a/b", "--json"], NOWHERE);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stderr).error).toMatchObject({ code: "unreachable" });
  });

  it("asks for a token when there is neither a flag, FLEETCONF_TOKEN nor .dev.vars", async () => {
    const run = await runCli(["history", "a/b"], { env: { FLEETCONF_DEV_VARS: "/nonexistent/.dev.vars" } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("no admin token");
  });
});

describe("typed option readers", () => {
  it("parses durations with units", () => {
    expect(parseDuration("3600", "--ttl", "token")).toBe(3600);
    expect(parseDuration("15m", "--ttl", "token")).toBe(900);
    expect(parseDuration("12h", "--ttl", "token")).toBe(43_200);
    expect(parseDuration("7d", "--ttl", "token")).toBe(604_800);
    expect(() => parseDuration("1.5h", "--ttl", "token")).toThrow(UsageError);
  });

  it("parses versions and bounded integers strictly", () => {
    expect(parseVersionArg("12", "VERSION", "show")).toBe(12);
    for (const bad of ["0", "01", "1e3", "-1", "", "9".repeat(16)]) {
      expect(() => parseVersionArg(bad, "VERSION", "show")).toThrow(UsageError);
    }
    expect(integerOption({ n: "5" }, "n", { min: 0, max: 10 }, "x")).toBe(5);
    expect(integerOption({}, "n", { min: 0, max: 10 }, "x")).toBeUndefined();
    expect(() => integerOption({ n: "11" }, "n", { min: 0, max: 10 }, "x")).toThrow(UsageError);
  });

  it("turns parseArgs errors into usage errors naming the command", () => {
    try {
      parseCommandArgs("history", ["--nope"], {}, { min: 0, max: 1 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).command).toBe("history");
    }
  });
});
