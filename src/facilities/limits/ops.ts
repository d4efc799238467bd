/**
 * Limits in the plan: the command's rlimits, and the wall-clock and CPU-time
 * limits the sandbox's init enforces itself (native/init_limits.c), so that they
 * hold whatever the supervisor's event loop is doing. Cgroup limits are the
 * supervisor's (src/facilities/limits/hooks.ts).
 */
import type { CpuCounter } from "../../cgroup/v1.ts";
import type { Spec } from "../../config/schema.ts";
import { parseCpuList } from "../../config/units.ts";
import { CPU_UNIT } from "../../plan/flags.ts";
import { type Op, op } from "../../plan/op.ts";
import type { Limits, RlimitValue } from "./fields.ts";

export const RLIM_INFINITY = 0xffffffffffffffffn;
const RLIMIT_CPU = 0;

const raw = (v: RlimitValue): number | bigint => (v === "unlimited" ? RLIM_INFINITY : v);

/**
 * The wall-clock limit in force: the timeout, or with only a CPU-time budget a
 * backstop of 10 times it, at least 1 s (a sleeping command uses no CPU).
 */
export function wallLimitMs(l: Limits): number | undefined {
  if (l.timeoutMs !== undefined) return l.timeoutMs;
  if (l.cpuTimeMs !== undefined) return Math.max(1000, 10 * l.cpuTimeMs);
  return undefined;
}

/** How many CPUs the sandbox can use at once (bounds how fast CPU time can grow). */
export function usableCpus(l: Limits): number {
  let n = navigator.hardwareConcurrency;
  if (l.cpuset !== undefined) {
    const set = parseCpuList(l.cpuset);
    if (typeof set !== "string") n = Math.min(n, set.cpus.length);
  }
  if (l.cpus !== undefined) n = Math.min(n, Math.ceil(l.cpus));
  return Math.max(1, n);
}

/** Shown by `isolate plan`, where no cgroup exists yet. */
const PLACEHOLDER_COUNTER: CpuCounter = { path: "/sys/fs/cgroup/<the sandbox's cgroup>/cpu.stat", unit: "cpu.stat" };

/**
 * The init's limits: first among the sandbox ops, so the CPU counter is opened
 * while the host's cgroup tree is still in view and nothing of the sandbox runs.
 */
export function initLimitOps(spec: Spec, cpuCounter: CpuCounter | null = null): Op[] {
  const l = spec.limits;
  const wall = wallLimitMs(l);
  if (wall === undefined && l.cpuTimeMs === undefined) return [];
  const counter = l.cpuTimeMs === undefined ? null : (cpuCounter ?? PLACEHOLDER_COUNTER);
  return [
    op("initLimits", {
      wallUs: (wall ?? 0) * 1000,
      graceUs: spec.killAfterMs * 1000,
      cpuUs: (l.cpuTimeMs ?? 0) * 1000,
      cpus: usableCpus(l),
      cpuFile: counter?.path ?? "",
      cpuUnit: counter === null ? 0 : counter.unit === "ns" ? CPU_UNIT.V1_NS : CPU_UNIT.V2_STAT,
    }),
  ];
}

/**
 * The command's rlimits. With a CPU-time budget and no rlimit of its own for
 * CPU, RLIMIT_CPU backs the init's watch up per process: SIGXCPU at the
 * budget rounded up to whole seconds, SIGKILL a second later.
 */
export function limitOps(spec: Spec): Op[] {
  const ops = spec.limits.rlimits.map((r) =>
    op("rlimit", { resource: r.resource, soft: raw(r.soft), hard: raw(r.hard) }),
  );
  const cpu = spec.limits.cpuTimeMs;
  if (cpu !== undefined && !spec.limits.rlimits.some((r) => r.resource === RLIMIT_CPU)) {
    const soft = Math.ceil(cpu / 1000);
    ops.push(op("rlimit", { resource: RLIMIT_CPU, soft, hard: soft + 1 }));
  }
  return ops;
}
