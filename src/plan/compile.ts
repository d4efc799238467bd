/**
 * A resolved sandbox -> the ordered plan. Each facility (src/facilities/index.ts)
 * puts its ops, made from the Resolved (src/plan/resolve.ts), in its slots
 * (src/facilities/facility.ts PLAN_SLOTS): the slots' order is the phase order,
 * checked again by the C decoder. Compiling reads no files.
 */
import type { CpuCounter } from "../cgroup/v1.ts";
import { type Facility, PLAN_SLOTS, type PlanSlot } from "../facilities/facility.ts";
import { FACILITIES } from "../facilities/index.ts";
import type { CgroupMount } from "../facilities/view/ops.ts";
import type { Op } from "./op.ts";
import type { Resolved } from "./resolve.ts";

/**
 * The setup ops of a resolved sandbox, in order: what the sandbox's init will
 * do (`isolate plan` prints them). Nothing is created, and no file is read.
 * `cgroups`: the hierarchies the sandbox has cgroups of its own in (its /sys/fs/cgroup shows them).
 * `cpuCounter`: the sandbox's cgroup CPU counter, when a CPU-time budget has one.
 * `facilities`: tests may give their own list.
 *
 * @example
 * const ops = compilePlan(resolveSandbox(parseSpec({ command: ["true"], hostname: "box" }), probeHost()));
 * console.log(ops.map(describeOp).join("\n"));
 */
export function compilePlan(
  r: Resolved,
  cgroups: readonly CgroupMount[] = [],
  cpuCounter: CpuCounter | null = null,
  facilities: readonly Facility[] = FACILITIES,
): Op[] {
  const ctx = { resolved: r, cgroups, cpuCounter };
  const parts = facilities.map((f) => f.plan?.(ctx) ?? {});
  // The ops first, then what is made from other slots' ops (Landlock's rules from the view's).
  const slots = new Map<PlanSlot, Op[]>(
    PLAN_SLOTS.map((s) => [s, parts.flatMap((p) => (typeof p[s] === "function" ? [] : (p[s] ?? [])))]),
  );
  const slot = (s: PlanSlot): readonly Op[] => slots.get(s) ?? [];
  for (const s of PLAN_SLOTS) {
    if (!parts.some((p) => typeof p[s] === "function")) continue;
    slots.set(
      s,
      parts.flatMap((p) => {
        const x = p[s];
        return typeof x === "function" ? x(slot) : (x ?? []);
      }),
    );
  }
  return PLAN_SLOTS.flatMap(slot);
}
