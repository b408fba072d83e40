/**
 * Collects every console line a test run prints (and still prints it), so a test can assert that
 * no secret or token ever reaches a log line. Undo with `vi.restoreAllMocks()`.
 */
import { vi } from "vitest";

export function captureConsole(into: string[]): void {
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    const original = console[method].bind(console);
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      into.push(args.map(String).join(" "));
      original(...args);
    });
  }
}
