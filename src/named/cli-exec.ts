/**
 * `isolate exec --name NAME [--detach]`: loaded only when --name or
 * --detach is given (plain exec never loads src/named/).
 *
 * Foreground: this process is the monitor; the sandbox is listed and
 * joinable while it runs, and its report stays in the state.
 *
 * Detached: this process starts the monitor, the same program run again
 * (`isolate __monitor`, hidden), and returns once the sandbox runs or failed
 * to start. The monitor makes itself a session leader, reads the exec
 * arguments as JSON on its stdin (bytes kept: src/host/bytes.ts strings),
 * reserves the name, points its stdout and stderr at NAME.log (the
 * sandbox's too), starts the sandbox, says "ok" (or the error) on fd 3, and
 * supervises it to the end like exec: limits, timeouts, the report.
 */

import type { CliOptions } from "../cli/flags.ts";
import { IsolateError, SpecError } from "../errors.ts";
import { errnoText } from "../host/errno.ts";
import { nodeFs } from "../host/files.ts";
import { loadShim } from "../shim/load.ts";
import { parseSpec } from "../spec/parse.ts";
import type { Spec, SpecInput } from "../spec/schema.ts";
import type { Result } from "../supervisor/result.ts";
import { type Sandbox, type SpawnHooks, spawnSpec } from "../supervisor/sandbox.ts";
import { TERMINATING } from "../supervisor/signals.ts";
import { type Joined, resolveJoin } from "./join.ts";
import { spawnNamed } from "./spawn.ts";
import { checkName, fileOf, stateRoot } from "./state.ts";

/** The program to run as the monitor: this binary, or bun with the CLI's source. */
export function selfCommand(): string[] {
  const main = `${import.meta.dir}/../cli/main.ts`;
  // Compiled, every module's import.meta.path is its source path: Bun.main tells.
  return Bun.main.startsWith("/$bunfs/") ? [process.execPath] : [process.execPath, main];
}

function generatedName(): string {
  const b = crypto.getRandomValues(new Uint8Array(4));
  return `sb-${[...b].map((x) => x.toString(16).padStart(2, "0")).join("")}`;
}

interface ReportHooks {
  readonly hooks: SpawnHooks;
  finish(result: Result): Promise<void>;
}

async function reportHooks(cli: CliOptions): Promise<ReportHooks> {
  const { writeReport } = await import("../cli/output.ts");
  const report = cli.report === undefined && cli.reportFd === undefined ? undefined : await import("../cli/report.ts");
  const targets: import("../cli/report.ts").ReportTarget[] = [];
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
  given: Spec,
  name: string | undefined,
  cli: CliOptions,
  detached: boolean,
  ready?: (err?: unknown) => void,
): Promise<number> {
  let named: { sandbox: Sandbox; exited: Promise<Result> };
  let joined: Joined | undefined;
  let rep: ReportHooks;
  try {
    rep = await reportHooks(cli);
    joined = cli.join === undefined ? undefined : resolveJoin(given, cli.join);
    const spec = joined?.spec ?? given;
    // One sandbox in this process: set it up inline, as exec does.
    const hooks: SpawnHooks = { ...rep.hooks, inline: true, ...(joined ? { join: joined.hook } : {}) };
    if (name === undefined) {
      const sandbox = spawnSpec(spec, {}, hooks);
      await sandbox.ready;
      named = { sandbox, exited: sandbox.exited };
    } else {
      named = await spawnNamed(
        spec,
        name,
        detached,
        detached ? { stdin: "null" } : {},
        hooks,
        detached ? toLog : undefined,
      );
    }
  } catch (e) {
    ready?.(e);
    throw e;
  } finally {
    if (joined) loadShim().close(joined.fd);
  }
  ready?.();
  const forward = (sig: string) => () => named.sandbox.kill(sig);
  const handlers = TERMINATING.map((sig) => [sig, forward(sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  const result = await named.exited;
  for (const [sig, h] of handlers) process.off(sig, h);
  if (result.error) process.stderr.write(`isolate: ${result.error.message}\n`);
  await rep.finish(result);
  return result.exitCode;
}

/** Detached monitor: once the name is ours, stdout and stderr go to its log. */
function toLog(name: string): void {
  const fs = nodeFs();
  const fd = fs.openSync(
    fileOf(name, "log"),
    fs.constants.O_WRONLY |
      fs.constants.O_CREAT |
      fs.constants.O_TRUNC |
      fs.constants.O_APPEND |
      fs.constants.O_NOFOLLOW,
    0o600,
  );
  const shim = loadShim();
  for (const to of [1, 2]) {
    const rc = shim.named.dup2(fd, to);
    if (rc < 0) throw new IsolateError("internal", `monitor: log: ${errnoText(-rc)}`);
  }
  fs.closeSync(fd);
}

/** exec with --name or --detach. */
export async function namedExec(spec: Spec, cli: CliOptions, rawArgs: readonly string[]): Promise<number> {
  if (!cli.detach) return supervise(spec, cli.name === undefined ? undefined : checkName(cli.name), cli, false);
  const name = checkName(cli.name ?? generatedName());
  if (cli.reportFd !== undefined) {
    throw new SpecError("--report-fd: not with --detach", `the report is kept: isolate wait ${name}`);
  }
  stateRoot();
  const proc = Bun.spawn([...selfCommand(), "__monitor"], {
    stdio: ["pipe", "ignore", process.env.ISOLATE_DEBUG ? "inherit" : "ignore", "pipe"],
    env: process.env,
    cwd: process.cwd(),
  });
  proc.stdin.write(JSON.stringify({ name, argv: rawArgs }));
  await proc.stdin.end();
  const said = await Bun.file(proc.stdio[3] as number).text();
  proc.unref();
  if (said.startsWith("ok")) {
    process.stdout.write(`${name}\n`);
    return 0;
  }
  if (said.startsWith("error ")) {
    process.stderr.write(`isolate: ${said.slice(6).trimEnd()}\n`);
    return 125;
  }
  const code = await proc.exited;
  throw new IsolateError("internal", `the monitor of ${name} ended before starting it (status ${code})`);
}

/** `isolate __monitor`: the detached sandbox's monitor (see the top). */
export async function monitorMain(): Promise<number> {
  const shim = loadShim();
  shim.named.setsid();
  let told = false;
  const tell = (text: string) => {
    if (told) return;
    told = true;
    shim.write(3, new TextEncoder().encode(text));
    shim.close(3);
  };
  try {
    // From the CLI: its exec arguments; from the library: a SpecInput.
    const input = JSON.parse(await Bun.stdin.text()) as { name: string; argv?: string[]; spec?: unknown };
    let spec: Spec;
    let cli: CliOptions = { json: false, report: undefined, reportFd: undefined, profiles: [] };
    if (input.argv) {
      const { scanFlags } = await import("../cli/flags.ts");
      const { buildSpec } = await import("../cli/spec-input.ts");
      const scanned = scanFlags(input.argv, "exec");
      cli = scanned.cli;
      spec = (await buildSpec(scanned)).spec;
    } else spec = parseSpec(input.spec as SpecInput);
    return await supervise(spec, input.name, { ...cli, detach: true }, true, (e) => {
      if (e === undefined) tell("ok\n");
      else tell(`error ${e instanceof IsolateError ? e.text() : e instanceof Error ? e.message : String(e)}\n`);
    });
  } catch (e) {
    if (!told) {
      tell(`error ${e instanceof IsolateError ? e.text() : e instanceof Error ? e.message : String(e)}\n`);
      return 125;
    }
    throw e;
  }
}
