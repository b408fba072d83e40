/**
 * The CLI's two failure kinds and their exit codes: a usage error (2: the command line is wrong,
 * nothing was attempted) and a failure (1: the command ran and did not succeed). A failure from
 * the origin keeps the problem+json `code`, `status` and `detail` so `--json` can pass them on.
 */

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {
  /** The command whose usage to point at, e.g. "namespace set". */
  readonly command: string | undefined;
  /** False for a refusal whose one line says everything (the agent's start-up checks). */
  readonly pointToHelp: boolean;
  constructor(message: string, command?: string, options: { pointToHelp?: boolean } = {}) {
    super(message);
    this.name = "UsageError";
    this.command = command;
    this.pointToHelp = options.pointToHelp ?? true;
  }
}

export class CliError extends Error {
  readonly code: string;
  readonly status: number | undefined;
  readonly detail: string | undefined;
  /** One line telling the user what to try next. */
  readonly hint: string | undefined;
  /** Where a document broke a schema (a 422's problem `errors`), as JSON Pointers. */
  readonly errors: { pointer: string; message: string }[] | undefined;
  constructor(
    message: string,
    options: {
      code?: string;
      status?: number;
      detail?: string;
      hint?: string;
      errors?: { pointer: string; message: string }[];
    } = {},
  ) {
    super(message);
    this.name = "CliError";
    this.code = options.code ?? "failed";
    this.status = options.status;
    this.detail = options.detail;
    this.hint = options.hint;
    this.errors = options.errors;
  }
}
