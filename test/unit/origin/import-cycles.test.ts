/**
 * No import cycle among the origin's modules (type-only imports included: a cycle of types still
 * ties the modules' order of evaluation to how a bundler happens to walk them). The same check as
 * `npx madge --circular --extensions ts origin/`, without the dependency.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../../..");
const IMPORT = /(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"|import\s+"(\.[^"]+)"/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

function importsOf(file: string, known: Set<string>): string[] {
  const text = readFileSync(file, "utf8");
  const found: string[] = [];
  for (const match of text.matchAll(IMPORT)) {
    const specifier = match[1] ?? match[2];
    if (specifier === undefined) continue;
    const base = resolve(dirname(file), specifier);
    const target = [base, `${base}.ts`, join(base, "index.ts")].find((candidate) => known.has(candidate));
    if (target) found.push(target);
  }
  return [...new Set(found)];
}

/** Every cycle found by a depth-first walk, each as the list of modules from its first to its last. */
function cycles(graph: Map<string, string[]>): string[][] {
  const files = [...graph.keys()];
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (file: string) => {
    state.set(file, "visiting");
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === "visiting") found.push(stack.slice(stack.indexOf(next)));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of files) if (!state.has(file)) visit(file);
  return found;
}

function importGraph(files: string[]): Map<string, string[]> {
  const known = new Set(files);
  const rel = (file: string) => relative(ROOT, file);
  return new Map(files.map((file) => [rel(file), importsOf(file, known).map(rel)]));
}

describe("origin import graph", () => {
  it("has no cycle among origin/ and core/ modules", () => {
    const files = [...sourceFiles(join(ROOT, "origin")), ...sourceFiles(join(ROOT, "core"))];
    const graph = importGraph(files);
    expect(graph.size).toBeGreaterThan(50);
    // The walker sees type-only imports too: the store imports its table helpers' types.
    expect(graph.get("origin/store/namespace-store.ts")).toContain("origin/store/tables.ts");
    expect(cycles(graph)).toEqual([]);
  });

  it("reports the cycles the origin had before (env ↔ stores, purger ↔ its implementations)", () => {
    const before = new Map([
      ["env.ts", ["store/fleet-store.ts", "store/namespace-store.ts"]],
      ["store/fleet-store.ts", ["env.ts"]],
      ["store/namespace-store.ts", ["env.ts", "distribution/purger.ts"]],
      ["distribution/purger.ts", ["distribution/zone-purger.ts"]],
      ["distribution/zone-purger.ts", ["distribution/purger.ts"]],
    ]);
    expect(cycles(before)).toEqual([
      ["env.ts", "store/fleet-store.ts"],
      ["env.ts", "store/namespace-store.ts"],
      ["distribution/purger.ts", "distribution/zone-purger.ts"],
    ]);
  });
});
