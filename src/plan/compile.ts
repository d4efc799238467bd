/**
 * Spec + Host -> the ordered plan. Each facility contributes its ops; the
 * phase order is fixed here and checked again by the C decoder.
 */
import type { CpuCounter } from "../cgroup/v1.ts";
import type { Spec } from "../config/schema.ts";
import { hostnameOps } from "../facilities/hostname/ops.ts";
import { initIdentityOps } from "../facilities/identity/ops.ts";
import { landlockOps } from "../facilities/landlock/ops.ts";
import { initLimitOps, limitOps } from "../facilities/limits/ops.ts";
import { checkNesting } from "../facilities/namespaces/nesting.ts";
import { namespaceOps } from "../facilities/namespaces/ops.ts";
import { networkOps } from "../facilities/net/ops.ts";
import { initPrivilegeOps, privilegeOps } from "../facilities/privileges/ops.ts";
import { execOps } from "../facilities/process/exec.ts";
import { processOps } from "../facilities/process/ops.ts";
import { ptyAttachOps, ptyOpenOps } from "../facilities/pty/ops.ts";
import { seccompOps } from "../facilities/seccomp/ops.ts";
import { type CgroupMount, mountOps } from "../facilities/view/ops.ts";
import type { Host } from "../host/probe.ts";
import type { Op } from "./op.ts";

/**
 * The privilege ops with Landlock right after no_new_privs (which it needs):
 * it opens its paths while the command still has the init's reach, before
 * its ids and capabilities change (a path only the caller's capabilities can
 * traverse still gets its rule). The seccomp filter comes after both.
 */
function privileges(spec: Spec, host: Host, landlock: Op[]): Op[] {
  const ops = privilegeOps(spec, host);
  const at = ops.findIndex((o) => o.op === "noNewPrivs") + 1;
  if (at === 0) throw new Error("internal: Landlock needs no_new_privs before it");
  return [...ops.slice(0, at), ...landlock, ...ops.slice(at)];
}

/**
 * The setup ops of a Spec on a host, in order: what the sandbox's init will do
 * (`isolate plan` prints them). Nothing is created.
 * `cgroups`: the hierarchies the sandbox has cgroups of its own in (its /sys/fs/cgroup shows them).
 * `cpuCounter`: the sandbox's cgroup CPU counter, when a CPU-time budget has one.
 *
 * @example
 * const ops = compilePlan(parseSpec({ command: ["true"], hostname: "box" }), probeHost());
 * console.log(ops.map(describeOp).join("\n"));
 */
export function compilePlan(
  spec: Spec,
  host: Host,
  cgroups: readonly CgroupMount[] = [],
  cpuCounter: CpuCounter | null = null,
): Op[] {
  checkNesting(spec, host);
  const namespaces = namespaceOps(spec, host);
  const identity = initIdentityOps(spec, host);
  const view = mountOps(spec, host, cgroups);
  return [
    // spawn, then sandbox-wide (pid 1): the init's own limits first
    ...namespaces.slice(0, 1),
    ...initLimitOps(spec, cpuCounter),
    ...namespaces.slice(1),
    ...identity,
    ...view,
    ...ptyOpenOps(spec),
    ...hostnameOps(spec),
    ...networkOps(spec, host),
    ...initPrivilegeOps(spec, host),
    // the command's process
    ...processOps(spec, host),
    ...ptyAttachOps(spec),
    ...limitOps(spec),
    ...privileges(spec, host, landlockOps(spec, host, view)),
    ...seccompOps(spec),
    ...execOps(spec, host),
  ];
}
