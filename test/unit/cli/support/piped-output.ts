/** An `Output` writing nowhere, as when stdout is a pipe (no colour, no progress): for render tests. */
import { type Io, Output } from "../../../../cli/output";

export function pipedOutput(): Output {
  const io: Io = {
    stdout: { isTTY: false, write: () => true },
    stderr: { isTTY: false, write: () => true },
    stdin: { async *[Symbol.asyncIterator]() {} },
    env: {},
    cwd: "/",
  };
  return new Output(io, { json: false });
}
