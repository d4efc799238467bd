/**
 * A resolved sandbox -> the ordered plan. Each facility contributes its ops
 * from the Resolved (src/plan/resolve.ts), which holds every host fact they
 * need: compiling reads no files. The phase order is fixed here and checked
 * again by the C decoder.
 */
import type { CpuCounter } from "../cgroup/v1.ts";
import { IsolateError } from "../errors.ts";
import { hostnameOps } from "../facilities/hostname/ops.ts";
import { initIdentityOps } from "../facilities/identity/ops.ts";
import { landlockOps } from "../facilities/landlock/ops.ts";
import { initLimitOps, limitOps } from "../facilities/limits/ops.ts";
import { namespaceOps } from "../facilities/namespaces/ops.ts";
import { networkOps } from "../facilities/net/ops.ts";
import { initPrivilegeOps, privilegeOps } from "../facilities/privileges/ops.ts";
import { execOps } from "../facilities/process/exec.ts";
import { processOps } from "../facilities/process/ops.ts";
import { ptyAttachOps, ptyOpenOps } from "../facilities/pty/ops.ts";
import { seccompOps } from "../facilities/seccomp/ops.ts";
import { type CgroupMount, mountOps } from "../facilities/view/ops.ts";
import type { Op } from "./op.ts";
import type { Resolved } from "./resolve.ts";

/**
 * The privilege ops with Landlock right after no_new_privs (which it needs):
 * it opens its paths while the command still has the init's reach, before
 * its ids and capabilities change (a path only the caller's capabilities can
 * traverse still gets its rule). The seccomp filter comes after both.
 */
function privileges(r: Resolved, landlock: Op[]): Op[] {
  const ops = privilegeOps(r);
  const at = ops.findIndex((o) => o.op === "noNewPrivs") + 1;
  if (at === 0) throw new IsolateError("internal", "Landlock needs no_new_privs before it");
  return [...ops.slice(0, at), ...landlock, ...ops.slice(at)];
}

/**
 * The setup ops of a resolved sandbox, in order: what the sandbox's init will
 * do (`isolate plan` prints them). Nothing is created, and no file is read.
 * `cgroups`: the hierarchies the sandbox has cgroups of its own in (its /sys/fs/cgroup shows them).
 * `cpuCounter`: the sandbox's cgroup CPU counter, when a CPU-time budget has one.
 *
 * @example
 * const ops = compilePlan(resolveSandbox(parseSpec({ command: ["true"], hostname: "box" }), probeHost()));
 * console.log(ops.map(describeOp).join("\n"));
 */
export function compilePlan(
  r: Resolved,
  cgroups: readonly CgroupMount[] = [],
  cpuCounter: CpuCounter | null = null,
): Op[] {
  const { spec } = r;
  const namespaces = namespaceOps(r);
  const view = mountOps(r, cgroups);
  return [
    // spawn, then sandbox-wide (pid 1): the init's own limits first
    ...namespaces.slice(0, 1),
    ...initLimitOps(spec, cpuCounter),
    ...namespaces.slice(1),
    ...initIdentityOps(r),
    ...view,
    ...ptyOpenOps(spec),
    ...hostnameOps(spec),
    ...networkOps(r),
    ...initPrivilegeOps(r),
    // the command's process
    ...processOps(r),
    ...ptyAttachOps(r.spec),
    ...limitOps(spec),
    ...privileges(r, landlockOps(r, view)),
    ...seccompOps(spec),
    ...execOps(r),
  ];
}
