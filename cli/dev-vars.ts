/**
 * Reading and editing `.dev.vars`, the local secrets file wrangler loads (dotenv syntax). Values
 * are read the way wrangler's dotenv does (quotes stripped, `\n` expanded inside double quotes),
 * and written back single-quoted, one `NAME='value'` a line, keeping every other line as it was.
 */
import { readFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { writeFileAtomic } from "../client/cache-file";

// dotenv 16's line grammar, which wrangler bundles: NAME=value, value optionally quoted.
const LINE =
  /(?:^|^)\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?(?:$|$)/gm;

export function parseDotenv(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const source = text.replace(/\r\n?/g, "\n");
  for (const match of source.matchAll(LINE)) {
    const name = match[1];
    if (!name) continue;
    let value = (match[2] ?? "").trim();
    const quote = value[0];
    value = value.replace(/^(['"`])([\s\S]*)\1$/gm, "$2");
    if (quote === '"') value = value.replace(/\\n/g, "\n").replace(/\\r/g, "\r");
    out.set(name, value);
  }
  return out;
}

/**
 * A JSON-valued variable. Some hand-written files escape JSON's quotes inside a double-quoted
 * value (`"[{\"kty\"…"`), which dotenv keeps verbatim; accept that spelling too.
 */
export function jsonVariable(vars: Map<string, string>, name: string): unknown {
  const raw = vars.get(name);
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return JSON.parse(raw.replace(/\\(["\\])/g, "$1"));
  }
}

/** Replaces (or appends) `NAME='value'` lines, leaving comments and other variables untouched. */
export function setDotenvValues(text: string, updates: Record<string, string>): string {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const pending = new Map(Object.entries(updates));
  for (const [name, value] of pending) {
    if (/['\n]/.test(value)) throw new Error(`${name} cannot be written to a dotenv file`);
  }
  const out = lines.map((line) => {
    const match = /^\s*(?:export\s+)?([\w.-]+)\s*=/.exec(line);
    const name = match?.[1];
    if (!name || !pending.has(name)) return line;
    const value = pending.get(name) as string;
    pending.delete(name);
    return `${name}='${value}'`;
  });
  if (out.length > 0 && out[out.length - 1] === "") out.pop();
  for (const [name, value] of pending) out.push(`${name}='${value}'`);
  return `${out.join("\n")}\n`;
}

export interface DevVarsFile {
  path: string;
  text: string;
  vars: Map<string, string>;
}

/** The `.dev.vars` to use: --dev-vars, then FLEETCONF_DEV_VARS, then ./.dev.vars. */
export function devVarsPath(
  explicit: string | undefined,
  env: Record<string, string | undefined>,
  cwd: string,
): string {
  const chosen = explicit ?? env.FLEETCONF_DEV_VARS ?? ".dev.vars";
  return isAbsolute(chosen) ? chosen : join(cwd, chosen);
}

export async function readDevVars(path: string): Promise<DevVarsFile | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return null;
    throw error;
  }
  return { path, text, vars: parseDotenv(text) };
}

export async function writeDevVars(path: string, text: string): Promise<void> {
  await writeFileAtomic(path, text, 0o600);
}
