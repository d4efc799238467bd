/**
 * `isolate exec --name NAME [--detach]` and `exec --join`: loaded only when
 * one of them is given (plain exec never loads src/named/).
 *
 * Foreground: this process is the monitor; the sandbox is listed and
 * joinable while it runs, and its report stays in the state. Detached: this
 * process starts the monitor (`isolate __monitor`, hidden: the exec
 * arguments go to it as JSON) and returns once the sandbox runs, printing
 * its name (src/named/supervise.ts).
 */

import type { Spec } from "../../config/schema.ts";
import { SpecError } from "../../errors.ts";
import { checkName } from "../../named/state.ts";
import { generatedName, launchMonitor, monitorMain, superviseNamed } from "../../named/supervise.ts";
import { failureText, type Result } from "../../supervisor/result.ts";
import type { SpawnHooks } from "../../supervisor/sandbox.ts";
import type { CliOptions } from "../flags.ts";
import { interactive } from "../interactive.ts";
import { flagNamer, stderr, stdout } from "../output.ts";
import type { ReportTarget } from "../report.ts";

/** The report's destinations, settled before the sandbox starts (as exec does). */
async function reportHooks(cli: CliOptions): Promise<{ hooks: SpawnHooks; finish(r: Result): Promise<void> }> {
  const { writeReport } = await import("../output.ts");
  const report = cli.report === undefined && cli.reportFd === undefined ? undefined : await import("../report.ts");
  const targets: ReportTarget[] = [];
  if (report && cli.reportFd !== undefined) targets.push(report.takeReportFd(cli.reportFd));
  return {
    hooks: {
      beforeStart: () => {
        if (report && cli.report !== undefined) targets.push(report.openReportFile(cli.report));
      },
    },
    finish: (result) => writeReport(result, cli.json, targets),
  };
}

async function supervise(
  spec: Spec,
  name: string | undefined,
  cli: CliOptions,
  detached: boolean,
  ready?: (err?: unknown) => void,
): Promise<number> {
  let rep: Awaited<ReturnType<typeof reportHooks>>;
  try {
    rep = await reportHooks(cli);
  } catch (e) {
    ready?.(e);
    throw e;
  }
  const result = await superviseNamed(spec, {
    name,
    detached,
    ...(cli.join === undefined ? {} : { join: cli.join }),
    hooks: rep.hooks,
    ...(ready ? { ready } : {}),
  });
  if (result.error) stderr().write(`isolate: ${failureText(result.error, flagNamer)}\n`);
  await rep.finish(result);
  return result.exitCode;
}

/** The isolate program itself, to run as a monitor: this binary, or bun with the CLI's source. */
function selfCommand(): string[] {
  // Compiled, every module's import.meta.path is its source path: Bun.main tells.
  if (Bun.main.startsWith("/$bunfs/")) return [process.execPath, "__monitor"];
  return [process.execPath, `${import.meta.dir}/../main.ts`, "__monitor"];
}

/** exec with --name, --detach or --join. */
export async function namedExec(spec: Spec, cli: CliOptions, argv: readonly string[]): Promise<number> {
  if (!cli.detach) return supervise(spec, cli.name === undefined ? undefined : checkName(cli.name), cli, false);
  const name = checkName(cli.name ?? generatedName());
  if (cli.reportFd !== undefined) {
    throw new SpecError("--report-fd: not with --detach", `the report is kept: isolate wait ${name}`);
  }
  await launchMonitor(selfCommand(), name, { name, argv });
  stdout().write(`${name}\n`);
  return 0;
}

/** `isolate __monitor`: a detached sandbox's monitor, for the exec arguments it is given. */
export function cliMonitorMain(): Promise<number> {
  // A monitor lives as long as its sandbox: the normal JIT policy from the start.
  interactive();
  return monitorMain(async (request, ready) => {
    const { scanFlags } = await import("../flags.ts");
    const { buildSpec } = await import("../spec-input.ts");
    const scanned = scanFlags(request.argv as string[], "exec");
    const { spec } = await buildSpec(scanned);
    return supervise(spec, String(request.name), { ...scanned.cli, detach: true }, true, ready);
  });
}
