/** How the CLI speaks: one line per error, JSON reports, exit codes. */
import { IsolateError } from "../errors.ts";
import { osBytes } from "../host/bytes.ts";
import type { Result } from "../supervisor/result.ts";

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

export async function writeReport(result: Result, opts: { json: boolean; report: string | undefined }): Promise<void> {
  if (opts.json) process.stderr.write(reportJson(result));
  if (opts.report !== undefined) {
    try {
      await Bun.write(opts.report, reportJson(result));
    } catch (e) {
      throw new IsolateError("host", `--report ${opts.report}: ${(e as NodeJS.ErrnoException).code ?? e}`);
    }
  }
}
