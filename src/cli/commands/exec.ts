/** isolate exec [flags] [--] CMD [ARG...] */
import type { CommandDef } from "citty";
import { parseSpec } from "../../spec/parse.ts";
import { spawnSpec } from "../../supervisor/sandbox.ts";
import { TERMINATING } from "../../supervisor/signals.ts";
import { flagOf, scanFlags } from "../flags.ts";
import { writeReport } from "../output.ts";
import type { ReportTarget } from "../report.ts";
import { flagArgs, usage } from "../usage.ts";

/** Scans its own argv (ordered, repeated flags): citty only renders its help. */
export const execCommand: CommandDef = {
  meta: { name: "exec", description: "run a command in a sandbox" },
  args: flagArgs,
  async run({ rawArgs, cmd }) {
    const { draft, cli, help } = scanFlags(rawArgs);
    if (help) return usage(cmd);
    const spec = parseSpec(draft, flagOf);
    // Named sandboxes: their own module, loaded only for them.
    if (cli.name !== undefined || cli.detach || cli.join !== undefined) {
      return (await import("../../named/cli-exec.ts")).namedExec(spec, cli, rawArgs);
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
        beforeStart: () => {
          if (report && cli.report !== undefined) targets.push(report.openReportFile(cli.report));
        },
      },
    );
    const forward = (sig: string) => () => sandbox.kill(sig);
    const handlers = TERMINATING.map((sig) => [sig, forward(sig)] as const);
    for (const [sig, h] of handlers) process.on(sig, h);
    const result = await sandbox.exited;
    for (const [sig, h] of handlers) process.off(sig, h);
    if (result.error) process.stderr.write(`isolate: ${result.error.message}\n`);
    await writeReport(result, cli.json, targets);
    return result.exitCode;
  },
};
