/** isolate exec [flags] [--] CMD [ARG...] */
import { probeHost } from "../../host/probe.ts";
import { hostRootWarning } from "../../setup/identity.ts";
import { spawnSpec } from "../../supervisor/sandbox.ts";
import { TERMINATING } from "../../supervisor/signals.ts";
import { scanFlags } from "../flags.ts";
import { stderr, writeReport } from "../output.ts";
import type { ReportTarget } from "../report.ts";
import { buildSpec } from "../spec-input.ts";

/** Scans its own argv by hand (ordered, repeated flags): no argument parser is loaded on this path. */
export async function execMain(argv: readonly string[]): Promise<number> {
  const scanned = scanFlags(argv, "exec");
  const { cli, help } = scanned;
  if (help) return (await import("../help.ts")).printHelp("exec");
  const { spec } = await buildSpec(scanned);
  // Named sandboxes: their own module, loaded only for them.
  if (cli.name !== undefined || cli.detach || cli.join !== undefined) {
    return (await import("./named-exec.ts")).namedExec(spec, cli, argv);
  }
  // The report's destinations are settled before the sandbox starts (after the
  // plan is checked): nothing the command writes can redirect them.
  const targets: ReportTarget[] = [];
  const report = cli.report === undefined && cli.reportFd === undefined ? undefined : await import("../report.ts");
  if (report && cli.reportFd !== undefined) targets.push(report.takeReportFd(cli.reportFd));
  const sandbox = spawnSpec(
    spec,
    {},
    {
      // One sandbox, nothing else on the event loop: no worker thread to start and end.
      inline: true,
      beforeStart: () => {
        if (report && cli.report !== undefined) targets.push(report.openReportFile(cli.report));
      },
    },
  );
  // Once it runs (bad input gets its error alone).
  const warning = hostRootWarning(spec, probeHost());
  if (warning) sandbox.ready.then(() => stderr().write(`isolate: ${warning}\n`)).catch(() => {});
  const forward = (sig: string) => () => sandbox.kill(sig);
  const handlers = TERMINATING.map((sig) => [sig, forward(sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  const result = await sandbox.exited;
  for (const [sig, h] of handlers) process.off(sig, h);
  if (result.error) stderr().write(`isolate: ${result.error.message}\n`);
  await writeReport(result, cli.json, targets);
  return result.exitCode;
}
