/** How the CLI speaks: one line per error, JSON reports, exit codes. */
import { IsolateError } from "../errors.ts";
import { osBytes } from "../host/bytes.ts";
import type { Result } from "../supervisor/result.ts";
import type { ReportTarget } from "./report.ts";

export function printError(e: unknown): number {
  if (e instanceof IsolateError) {
    // A path that is not UTF-8 is printed as its bytes, as other tools do.
    process.stderr.write(osBytes(`isolate: ${e.text()}\n`));
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
