/**
 * Everything the CLI prints goes through `Output`, which decides three things once: JSON or text
 * (`--json`: stdout carries exactly one JSON document, or one per line for streaming commands),
 * colour (only on a TTY, never with NO_COLOR — https://no-color.org — or TERM=dumb), and where a
 * progress line may go (stderr, TTY only, erased before the next output).
 */
import { CliError, UsageError } from "./errors";

export interface OutStream {
  write(chunk: string | Uint8Array): unknown;
  isTTY?: boolean;
}

export interface Io {
  stdout: OutStream;
  stderr: OutStream;
  stdin: AsyncIterable<Uint8Array | string> & { isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
}

export interface Paint {
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

const ansi = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;
const COLOURS: Paint = {
  red: ansi(31, 39),
  green: ansi(32, 39),
  yellow: ansi(33, 39),
  cyan: ansi(36, 39),
  dim: ansi(2, 22),
  bold: ansi(1, 22),
};
const PLAIN: Paint = { red: String, green: String, yellow: String, cyan: String, dim: String, bold: String };

export function colourEnabled(stream: OutStream, env: Io["env"]): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "" && env.FORCE_COLOR !== "0") return true;
  return stream.isTTY === true && env.TERM !== "dumb";
}

export class Output {
  readonly json: boolean;
  /** Colours for stdout and stderr, each decided by its own stream. */
  readonly paint: Paint;
  readonly paintErr: Paint;
  private progressShown = false;

  constructor(
    private readonly io: Io,
    options: { json: boolean; noColor?: boolean },
  ) {
    this.json = options.json;
    const allowed = !options.noColor;
    this.paint = allowed && colourEnabled(io.stdout, io.env) ? COLOURS : PLAIN;
    this.paintErr = allowed && colourEnabled(io.stderr, io.env) ? COLOURS : PLAIN;
  }

  /** The command's result: `value` as JSON with --json, else the human text (if any). */
  result(value: unknown, human: string | null): void {
    this.clearProgress();
    if (this.json) this.io.stdout.write(`${JSON.stringify(value)}\n`);
    else if (human !== null) this.io.stdout.write(human.endsWith("\n") ? human : `${human}\n`);
  }

  /** One JSON document per line (streaming commands such as watch and agent). */
  jsonLine(value: unknown): void {
    this.clearProgress();
    this.io.stdout.write(`${JSON.stringify(value)}\n`);
  }

  /** Raw bytes to stdout (config content, exactly as published). */
  raw(bytes: Uint8Array): void {
    this.clearProgress();
    this.io.stdout.write(bytes);
  }

  /** A note for people, on stderr; silent with --json so scripts see only results. */
  note(text: string): void {
    if (this.json) return;
    this.clearProgress();
    this.io.stderr.write(`${text}\n`);
  }

  warn(text: string): void {
    this.clearProgress();
    if (this.json) this.io.stderr.write(`${JSON.stringify({ warning: text })}\n`);
    else this.io.stderr.write(`${this.paintErr.yellow("warning:")} ${text}\n`);
  }

  /** A transient status line for long work: stderr, TTY and text mode only. */
  progress(text: string): void {
    if (this.json || this.io.stderr.isTTY !== true) return;
    this.io.stderr.write(`\r\u001b[2K${this.paintErr.dim(text)}`);
    this.progressShown = true;
  }

  clearProgress(): void {
    if (!this.progressShown) return;
    this.io.stderr.write("\r\u001b[2K");
    this.progressShown = false;
  }

  /** Renders a failure: a JSON document on stderr with --json, else a readable message. */
  error(error: unknown): void {
    this.clearProgress();
    const p = this.paintErr;
    if (error instanceof UsageError) {
      if (this.json)
        this.io.stderr.write(`${JSON.stringify({ error: { code: "usage", message: error.message } })}\n`);
      else {
        const help = error.command ? `fleetconf ${error.command} --help` : "fleetconf --help";
        const pointer = error.pointToHelp ? `${p.dim(`See '${help}'.`)}\n` : "";
        this.io.stderr.write(`${p.red("error:")} ${error.message}\n${pointer}`);
      }
      return;
    }
    if (error instanceof CliError) {
      if (this.json) {
        const body = {
          code: error.code,
          message: error.message,
          status: error.status,
          detail: error.detail,
          ...(error.errors ? { errors: error.errors } : {}),
        };
        this.io.stderr.write(`${JSON.stringify({ error: body })}\n`);
      } else {
        const lines = [`${p.red("error:")} ${error.message}`];
        if (error.detail && !error.message.includes(error.detail)) lines.push(`  ${error.detail}`);
        for (const e of error.errors ?? [])
          lines.push(`  ${p.yellow(e.pointer || "(document)")}: ${e.message}`);
        if (error.hint) lines.push(p.dim(`  hint: ${error.hint}`));
        this.io.stderr.write(`${lines.join("\n")}\n`);
      }
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    if (this.json) this.io.stderr.write(`${JSON.stringify({ error: { code: "internal", message } })}\n`);
    else this.io.stderr.write(`${p.red("error:")} ${message}\n`);
  }
}

/** Left-aligned columns, padded by visible width (ANSI codes do not count). */
export function table(rows: string[][], gap = 2): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point.
  const visible = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, "").length;
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, visible(cell));
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) =>
          i === row.length - 1 ? cell : cell + " ".repeat((widths[i] ?? 0) - visible(cell) + gap),
        )
        .join(""),
    )
    .join("\n");
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Time as people read it in a terminal: UTC ISO without milliseconds. */
export function formatTime(value: string | number): string {
  const date = new Date(value);
  return Number.isNaN(date.getTime())
    ? String(value)
    : `${date.toISOString().slice(0, 19).replace("T", " ")}Z`;
}
