/** How the CLI speaks: one line per error, JSON reports, exit codes. */
import { type FieldNamer, IsolateError } from "../errors.ts";
import { osBytes } from "../host/bytes.ts";
import type { Result } from "../supervisor/result.ts";
import type { ReportTarget } from "./report.ts";

/** What a shell shows for a process killed by SIGPIPE: isolate ends so when its reader has gone. */
export const BROKEN_PIPE_EXIT = 128 + 13;

const isBrokenPipe = (e: unknown) => (e as { code?: unknown } | null)?.code === "EPIPE";

/**
 * `isolate clean --dry-run | head`: once the reader of stdout or stderr has
 * gone, end quietly as SIGPIPE would (141), without a stack trace. Bun
 * reports the failed write as an exception or as an error on the stream.
 */
export function quietOnBrokenPipe(): void {
  const end = (e: unknown) => {
    if (!isBrokenPipe(e)) throw e;
    process.exit(BROKEN_PIPE_EXIT);
  };
  process.stdout.on("error", end);
  process.stderr.on("error", end);
  // A write that fails at once is thrown from wherever it was made, possibly outside any command's promise.
  process.on("uncaughtException", (e) => {
    process.exit(isBrokenPipe(e) ? BROKEN_PIPE_EXIT : printError(e));
  });
}

/**
 * Fields in errors are named by the flags that fill them (src/errors.ts field()).
 * The flag table loads only for an error that names a field.
 */
export const flagNamer: FieldNamer = (path, value) => {
  const { flagText } = require("./flags.ts") as typeof import("./flags.ts");
  return flagText(path, value);
};

export function printError(e: unknown): number {
  if (isBrokenPipe(e)) return BROKEN_PIPE_EXIT;
  if (e instanceof IsolateError) {
    // A path that is not UTF-8 is printed as its bytes, as other tools do.
    process.stderr.write(osBytes(`isolate: ${e.text(flagNamer)}\n`));
    return e.exitCode;
  }
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`isolate: internal error: ${msg}\n`);
  if (process.env.ISOLATE_DEBUG && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  return 125;
}

export function reportJson(result: Result): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}

/**
 * The report when done: to stderr with --json (shared with the command, which
 * may have printed a forged one first), and to the --report / --report-fd
 * descriptors opened before the run.
 */
export async function writeReport(result: Result, json: boolean, targets: readonly ReportTarget[]): Promise<void> {
  const text = reportJson(result);
  if (json) process.stderr.write(text);
  if (targets.length > 0) (await import("./report.ts")).writeReportTo(targets, text);
}
