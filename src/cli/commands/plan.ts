/** isolate plan [flags] [--] CMD: the normalized Spec and its ops; creates nothing. */

import { describeIdentity } from "../../facilities/identity/describe.ts";
import { probeHost } from "../../host/probe.ts";
import { compilePlan } from "../../plan/compile.ts";
import { describeOp } from "../../plan/describe.ts";
import { OPS } from "../../plan/ops.ts";
import { resolveSandbox } from "../../plan/resolve.ts";
import { scanFlags } from "../flags.ts";
import { stdout } from "../output.ts";
import { buildSpec } from "../spec-input.ts";

/** Byte arguments (a seccomp program, a gid list) as base64; u64s beyond 2^53 as strings. */
const jsonArg = (_key: string, v: unknown) =>
  v instanceof Uint8Array ? { base64: Buffer.from(v).toString("base64") } : typeof v === "bigint" ? v.toString() : v;

/** The plan goes to stdout: it is what this command prints (--json only changes its form). */
export async function planMain(argv: readonly string[]): Promise<number> {
  const scanned = scanFlags(argv, "plan");
  if (scanned.help) return (await import("../help.ts")).printHelp("plan");
  const { spec, profiles } = await buildSpec(scanned);
  const resolved = resolveSandbox(spec, probeHost());
  const identity = describeIdentity(resolved);
  const ops = compilePlan(resolved).map((o, index) => ({
    index,
    phase: OPS[o.op].phase,
    op: o.op,
    what: describeOp(o),
    args: o.args,
  }));
  if (scanned.cli.json) {
    stdout().write(`${JSON.stringify({ profiles, spec, identity, ops }, jsonArg, 2)}\n`);
    return 0;
  }
  const lines = profiles.map((p) => `profile: ${p}`);
  lines.push(`spec: ${JSON.stringify(spec, null, 2)}`, `identity: ${identity.summary}`);
  for (const kind of ["uid", "gid"] as const) {
    const map = identity.maps?.[kind];
    if (map) lines.push(`  ${kind} map: ${map.map((r) => `${r.inside} ${r.outside} ${r.count}`).join("; ")}`);
  }
  if (identity.idmapped.length > 0) lines.push(`  idmapped: ${identity.idmapped.join(", ")}`);
  lines.push("ops:");
  for (const o of ops) lines.push(`  ${String(o.index).padStart(2)}  ${o.phase.padEnd(7)}  ${o.what}`);
  stdout().write(`${lines.join("\n")}\n`);
  return 0;
}
