/**
 * Renders a structural JSON diff (core/json-diff.ts) for people: one line per change, addressed
 * by JSON Pointer (RFC 6901), `+` added (green), `-` removed (red), `~` changed (yellow). Short
 * values stay on the line; long ones are indented beneath it.
 */
import type { JsonChange, JsonValue } from "../core/json-diff";
import type { Paint } from "./output";

const INLINE_LIMIT = 80;

function renderValue(value: JsonValue, colour: (s: string) => string, indent: string): string {
  const compact = JSON.stringify(value);
  if (compact.length <= INLINE_LIMIT) return colour(compact);
  const pretty = JSON.stringify(value, null, 2)
    .split("\n")
    .map((line) => `${indent}${colour(line)}`)
    .join("\n");
  return `\n${pretty}`;
}

export function renderChanges(changes: readonly JsonChange[], paint: Paint): string {
  if (changes.length === 0) return paint.dim("no differences");
  return changes
    .map((change) => {
      const path = change.path === "" ? "(whole document)" : change.path;
      switch (change.op) {
        case "add":
          return `${paint.green("+")} ${path}: ${renderValue(change.value, paint.green, "    ")}`;
        case "remove":
          return `${paint.red("-")} ${path}: ${renderValue(change.oldValue, paint.red, "    ")}`;
        case "replace": {
          const before = renderValue(change.oldValue, paint.red, "    ");
          const after = renderValue(change.value, paint.green, "    ");
          const arrow =
            before.startsWith("\n") || after.startsWith("\n")
              ? `\n  ${paint.dim("→")}`
              : ` ${paint.dim("→")} `;
          return `${paint.yellow("~")} ${path}: ${before}${arrow}${after}`;
        }
      }
      return "";
    })
    .join("\n");
}

export function summarise(changes: readonly JsonChange[]): string {
  const count = (op: JsonChange["op"]) => changes.filter((c) => c.op === op).length;
  return `${count("add")} added, ${count("remove")} removed, ${count("replace")} changed`;
}
