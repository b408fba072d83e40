/** Runs the CLI's `main` in-process with captured stdout/stderr and a chosen env and cwd. */
import { type MainOptions, main } from "../../../../cli/main";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
}

export interface RunOptions extends MainOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  stdin?: string | Uint8Array;
  tty?: boolean;
}

class Capture {
  chunks: Buffer[] = [];
  constructor(readonly isTTY: boolean) {}
  write(chunk: string | Uint8Array): boolean {
    this.chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk));
    return true;
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

export async function runCli(argv: string[], options: RunOptions = {}): Promise<CliRun> {
  const stdout = new Capture(options.tty ?? false);
  const stderr = new Capture(options.tty ?? false);
  const input = options.stdin;
  const stdin = {
    isTTY: false,
    async *[Symbol.asyncIterator]() {
      if (input !== undefined) yield typeof input === "string" ? Buffer.from(input) : input;
    },
  };
  const code = await main(
    argv,
    { stdout, stderr, stdin, env: options.env ?? {}, cwd: options.cwd ?? process.cwd() },
    options,
  );
  return {
    code,
    stdout: stdout.bytes().toString(),
    stderr: stderr.bytes().toString(),
    stdoutBytes: stdout.bytes(),
  };
}
