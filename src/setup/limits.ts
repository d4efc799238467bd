/** The command's rlimits (cgroup limits are the supervisor's: src/supervisor/limits.ts). */
import { type Op, op } from "../plan/op.ts";
import type { RlimitValue } from "../spec/limits.ts";
import type { Spec } from "../spec/schema.ts";

export const RLIM_INFINITY = 0xffffffffffffffffn;

const raw = (v: RlimitValue): number | bigint => (v === "unlimited" ? RLIM_INFINITY : v);

export function limitOps(spec: Spec): Op[] {
  return spec.limits.rlimits.map((r) => op("rlimit", { resource: r.resource, soft: raw(r.soft), hard: raw(r.hard) }));
}
