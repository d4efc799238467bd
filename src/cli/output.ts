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
 * reports the failed write as an exception or as an error on the stream
 * (see stdout() and stderr() for the stream's listener).
 */
export function quietOnBrokenPipe(): void {
  // A write that fails at once is thrown from wherever it was made, possibly outside any command's promise.
  process.on("uncaughtException", (e) => {
    process.exit(isBrokenPipe(e) ? BROKEN_PIPE_EXIT : printError(e));
  });
}

const endOnBrokenPipe = (e: unknown) => {
  if (!isBrokenPipe(e)) throw e;
  process.exit(BROKEN_PIPE_EXIT);
};

let listening = 0;

/** A standard stream with the broken-pipe listener, added at its first use. */
function guarded<T extends NodeJS.WriteStream>(bit: number, s: T): T {
  if ((listening & bit) === 0) {
    listening |= bit;
    s.on("error", endOnBrokenPipe);
  }
  return s;
}

/**
 * process.stdout for the CLI's output, and process.stderr for its messages:
 * the CLI uses these, never the streams themselves. The first touch of either
 * builds a Node stream, which costs about a whole compiled hello-world's
 * start-up; `isolate exec` (without --json or an error) and `--version` never
 * pay it.
 */
export const stdout = (): NodeJS.WriteStream => guarded(1, process.stdout);
export const stderr = (): NodeJS.WriteStream => guarded(2, process.stderr);

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
    stderr().write(osBytes(`isolate: ${e.text(flagNamer)}\n`));
    return e.exitCode;
  }
  const msg = e instanceof Error ? e.message : String(e);
  stderr().write(`isolate: internal error: ${msg}\n`);
  if (process.env.ISOLATE_DEBUG && e instanceof Error && e.stack) stderr().write(`${e.stack}\n`);
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
  if (json) stderr().write(text);
  if (targets.length > 0) (await import("./report.ts")).writeReportTo(targets, text);
}
