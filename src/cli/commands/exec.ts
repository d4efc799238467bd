/** isolate exec [flags] [--] CMD [ARG...] */

import { SpecError } from "../../errors.ts";
import { hostRootWarning, nestedIdNotice } from "../../facilities/identity/ops.ts";
import { loadShim } from "../../shim/load.ts";
import { failureText } from "../../supervisor/result.ts";
import { spawnSpec } from "../../supervisor/sandbox.ts";
import { TERMINATING } from "../../supervisor/signals.ts";
import { scanFlags } from "../flags.ts";
import { interactive } from "../interactive.ts";
import { flagNamer, stderr, writeReport } from "../output.ts";
import type { ReportTarget } from "../report.ts";
import { buildSpec } from "../spec-input.ts";

/** Scans its own argv by hand (ordered, repeated flags): no argument parser is loaded on this path. */
export async function execMain(argv: readonly string[]): Promise<number> {
  const scanned = scanFlags(argv, "exec");
  const { cli, help } = scanned;
  if (help) return (await import("../help.ts")).printHelp("exec");
  let { spec } = await buildSpec(scanned);
  // Named sandboxes: their own module, loaded only for them.
  if (cli.name !== undefined || cli.detach || cli.join !== undefined) {
    if (spec.pty) throw new SpecError("--pty works with a plain isolate exec", "drop --name, --detach and --join");
    return (await import("./named-exec.ts")).namedExec(spec, cli, argv);
  }
  // The report's destinations are settled before the sandbox starts (after the
  // plan is checked): nothing the command writes can redirect them.
  const targets: ReportTarget[] = [];
  const report = cli.report === undefined && cli.reportFd === undefined ? undefined : await import("../report.ts");
  if (report && cli.reportFd !== undefined) targets.push(report.takeReportFd(cli.reportFd));
  // --pty: the pty starts with the caller's window size (src/supervisor/pty.ts).
  const pty = spec.pty ? await import("../../supervisor/pty.ts") : undefined;
  if (pty) spec = pty.withCallerSize(loadShim(), spec);
  let warning: string | undefined;
  const sandbox = spawnSpec(
    spec,
    {},
    {
      // One sandbox, nothing else on the event loop: no worker thread to start and end.
      inline: true,
      beforeStart: (resolved) => {
        warning = hostRootWarning(resolved, flagNamer) ?? nestedIdNotice(resolved, flagNamer);
        if (report && cli.report !== undefined) targets.push(report.openReportFile(cli.report));
      },
    },
  );
  // Once it runs (bad input gets its error alone).
  sandbox.ready
    .then(() => {
      interactive();
      if (warning) stderr().write(`isolate: ${warning}\n`);
    })
    .catch(() => {});
  const forward = (sig: string) => () => sandbox.kill(sig);
  const handlers = TERMINATING.map((sig) => [sig, forward(sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  const relay = pty
    ? sandbox.terminal.then((m) => (m === null ? undefined : pty.relayTerminal(loadShim(), m, sandbox.exited)))
    : undefined;
  const result = await sandbox.exited;
  await relay?.catch(() => {});
  for (const [sig, h] of handlers) process.off(sig, h);
  if (result.error) stderr().write(`isolate: ${failureText(result.error, flagNamer)}\n`);
  await writeReport(result, cli.json, targets);
  return result.exitCode;
}
