/**
 * What a benchmark section reports: a table, target verdicts and notes, printed as it goes (one
 * progress line per run) and rendered at the end into the results JSON and BENCHMARKS.md.
 */

export type Cell = string | number | null;

export interface Target {
  name: string;
  /** null when it could not be measured in this run. */
  met: boolean | null;
  detail: string;
}

export interface Section {
  id: string;
  title: string;
  /** How it was measured, one paragraph. */
  method: string;
  columns: string[];
  rows: Cell[][];
  targets: Target[];
  notes: string[];
  /** Everything measured, for the JSON file. */
  raw: unknown;
  /** Set when the section could not run (e.g. the part it measures is not built yet). */
  skipped?: string;
}

const started = Date.now();

/** One progress line: elapsed time, section, what ran, the figures. */
export function progress(section: string, what: string, figures: string): void {
  const elapsed = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
  console.log(`${elapsed}s  ${section.padEnd(12)} ${what.padEnd(34)} ${figures}`);
}

export function fmt(value: Cell, digits = 1): string {
  if (value === null) return "–";
  if (typeof value === "string") return value;
  if (!Number.isFinite(value)) return "–";
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString("en-US");
  return value.toFixed(digits);
}

export function renderTable(columns: readonly string[], rows: readonly Cell[][]): string {
  const head = `| ${columns.join(" | ")} |`;
  const rule = `|${columns.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`;
  const body = rows.map((row) => `| ${row.map((cell) => fmt(cell)).join(" | ")} |`);
  return [head, rule, ...body].join("\n");
}

/** Prints a finished section as a plain-text table on the terminal. */
export function printSection(section: Section): void {
  console.log(`\n== ${section.title}`);
  if (section.skipped) {
    console.log(`   skipped: ${section.skipped}`);
    return;
  }
  const cells = [section.columns, ...section.rows.map((row) => row.map((cell) => fmt(cell)))];
  const widths = section.columns.map((_, i) => Math.max(...cells.map((row) => String(row[i] ?? "").length)));
  for (const row of cells) {
    console.log(`   ${row.map((cell, i) => String(cell ?? "").padStart(widths[i] ?? 0)).join("  ")}`);
  }
  for (const target of section.targets) {
    const verdict = target.met === null ? "n/a " : target.met ? "MET " : "MISS";
    console.log(`   [${verdict}] ${target.name}: ${target.detail}`);
  }
  for (const note of section.notes) console.log(`   - ${note}`);
}

export function skippedSection(id: string, title: string, reason: string): Section {
  return { id, title, method: "", columns: [], rows: [], targets: [], notes: [], raw: null, skipped: reason };
}
