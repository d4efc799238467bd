/** The limits' ops in words. */
import { quoteOs } from "../../host/bytes.ts";
import type { Op } from "../../plan/op.ts";
import { RLIMIT_NAMES } from "./fields.ts";
import { RLIM_INFINITY } from "./ops.ts";

const lim = (v: number | bigint) => (BigInt(v) === RLIM_INFINITY ? "unlimited" : String(v));

export function describeInitLimits(o: Extract<Op, { op: "initLimits" }>): string {
  const parts: string[] = [];
  if (Number(o.args.wallUs) > 0)
    parts.push(
      `wall ${Number(o.args.wallUs) / 1000}ms from the command's start, SIGTERM then kill-after ${Number(o.args.graceUs) / 1000}ms`,
    );
  if (Number(o.args.cpuUs) > 0) parts.push(`CPU ${Number(o.args.cpuUs) / 1000}ms read from ${quoteOs(o.args.cpuFile)}`);
  return `the init enforces: ${parts.join("; ")}`;
}

export function describeRlimit(o: Extract<Op, { op: "rlimit" }>): string {
  return `rlimit ${RLIMIT_NAMES[Number(o.args.resource)] ?? o.args.resource}=${lim(o.args.soft)}:${lim(o.args.hard)}`;
}
