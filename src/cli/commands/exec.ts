/** isolate exec [flags] [--] CMD [ARG...] */
import type { CommandDef } from "citty";
import { probeHost } from "../../host/probe.ts";
import { hostRootWarning } from "../../setup/identity.ts";
import { parseSpec } from "../../spec/parse.ts";
import { spawnSpec } from "../../supervisor/sandbox.ts";
import { TERMINATING } from "../../supervisor/signals.ts";
import { flagOf, scanFlags } from "../flags.ts";
import { writeReport } from "../output.ts";
import { flagArgs, usage } from "../usage.ts";

/** Scans its own argv (ordered, repeated flags): citty only renders its help. */
export const execCommand: CommandDef = {
  meta: { name: "exec", description: "run a command in a sandbox" },
  args: flagArgs,
  async run({ rawArgs, cmd }) {
    const { draft, cli, help } = scanFlags(rawArgs);
    if (help) return usage(cmd);
    const spec = parseSpec(draft, flagOf);
    const sandbox = spawnSpec(spec);
    // Once it runs (bad input gets its error alone).
    const warning = hostRootWarning(spec, probeHost());
    if (warning) process.stderr.write(`isolate: ${warning}\n`);
    const forward = (sig: string) => () => sandbox.kill(sig);
    const handlers = TERMINATING.map((sig) => [sig, forward(sig)] as const);
    for (const [sig, h] of handlers) process.on(sig, h);
    const result = await sandbox.exited;
    for (const [sig, h] of handlers) process.off(sig, h);
    if (result.error) process.stderr.write(`isolate: ${result.error.message}\n`);
    await writeReport(result, cli);
    return result.exitCode;
  },
};
