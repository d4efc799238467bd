/** isolate plan [flags] [--] CMD: the normalized Spec and its ops; creates nothing. */
import type { CommandDef } from "citty";
import { probeHost } from "../../host/probe.ts";
import { compilePlan } from "../../plan/compile.ts";
import { describeOp } from "../../plan/describe.ts";
import { OPS } from "../../plan/ops.ts";
import { parseSpec } from "../../spec/parse.ts";
import { CLI_SPEC_DEFAULTS, flagOf, scanFlags } from "../flags.ts";
import { flagArgs, usage } from "../usage.ts";

/** Byte arguments (a seccomp program, a gid list) as base64; u64s beyond 2^53 as strings. */
const jsonArg = (_key: string, v: unknown) =>
  v instanceof Uint8Array ? { base64: Buffer.from(v).toString("base64") } : typeof v === "bigint" ? v.toString() : v;

/** Scans its own argv (ordered, repeated flags): citty only renders its help. */
export const planCommand: CommandDef = {
  meta: { name: "plan", description: "print the sandbox a command would get, creating nothing" },
  args: flagArgs,
  run({ rawArgs, cmd }) {
    const { draft, cli, help } = scanFlags(rawArgs);
    if (help) return usage(cmd);
    const spec = parseSpec(draft, flagOf, CLI_SPEC_DEFAULTS);
    const ops = compilePlan(spec, probeHost()).map((o, index) => ({
      index,
      phase: OPS[o.op].phase,
      op: o.op,
      what: describeOp(o),
      args: o.args,
    }));
    if (cli.json) {
      process.stdout.write(`${JSON.stringify({ spec, ops }, jsonArg, 2)}\n`);
      return 0;
    }
    const lines = [`spec: ${JSON.stringify(spec, null, 2)}`, "ops:"];
    for (const o of ops) lines.push(`  ${String(o.index).padStart(2)}  ${o.phase.padEnd(7)}  ${o.what}`);
    process.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  },
};
