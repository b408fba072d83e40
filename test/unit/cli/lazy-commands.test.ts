/**
 * The command table (cli/main.ts) loads a command's module only when that command runs: every row
 * loads the command it names, and in the shipped build (scripts/lib/cli-build.ts) what `agent` and
 * `watch` load holds no zod, hono or origin/contract.ts (BENCHMARKS.md, "Agent start-up and
 * memory"), while an admin command's load does, so the check can fail.
 */
import { fileURLToPath } from "node:url";
import { build, type Metafile } from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";
import { COMMANDS, findCommand } from "../../../cli/main";
import { cliBuildOptions } from "../../../scripts/lib/cli-build";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
/** What the agent has no use for: the admin API's answer schemas and what they pull in. */
const ADMIN_ONLY = /node_modules\/(zod|hono|@hono|@asteasolutions)\/|^origin\/contract\.ts$/;

let meta: Metafile;
beforeAll(async () => {
  const result = await build({ ...cliBuildOptions(ROOT), absWorkingDir: ROOT, write: false, metafile: true });
  meta = result.metafile;
}, 30_000);

/** Source files in the output of `entryPoint` and every chunk it imports statically, transitively. */
function statically(entryPoint: string): Set<string> {
  const outputs = Object.entries(meta.outputs);
  const start = outputs.find(([, output]) => output.entryPoint === entryPoint);
  if (!start) throw new Error(`no output for ${entryPoint}`);
  const seen = new Set<string>();
  const inputs = new Set<string>();
  const visit = (path: string) => {
    const output = meta.outputs[path];
    if (seen.has(path) || !output) return;
    seen.add(path);
    for (const input of Object.keys(output.inputs)) inputs.add(input);
    for (const imported of output.imports) if (imported.kind === "import-statement") visit(imported.path);
  };
  visit(start[0]);
  return inputs;
}

/** What running `fleetconf <command>` loads: the entry, then that command's module. */
function loadedBy(source: string): string[] {
  return [...statically("cli/bin.ts"), ...statically(source)];
}

describe("lazy command loading", () => {
  it.each(COMMANDS.map((entry) => [entry.name]))("the `%s` row loads the command it names", async (name) => {
    const found = findCommand(name.split(" "));
    expect((await found?.command.load())?.name).toBe(name);
  });

  it.each([
    ["agent", "cli/commands/agent.ts"],
    ["watch", "cli/commands/watch.ts"],
  ])("`%s` never loads zod, hono or origin/contract.ts", (_name, source) => {
    const loaded = loadedBy(source);
    expect(loaded).toContain(source);
    expect(loaded.filter((input) => ADMIN_ONLY.test(input))).toEqual([]);
  });

  it("an admin command does load the contract's schemas (the check above can fail)", () => {
    const loaded = loadedBy("cli/commands/publish.ts");
    expect(loaded).toContain("origin/contract.ts");
    expect(loaded.some((input) => input.includes("node_modules/zod/"))).toBe(true);
  });
});
