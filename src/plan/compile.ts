/**
 * Spec + Host -> the ordered plan. Each facility contributes its ops; the
 * phase order is fixed here and checked again by the C decoder.
 */
import type { CpuCounter } from "../cgroup/v1.ts";
import type { Host } from "../host/probe.ts";
import { execOps } from "../setup/exec.ts";
import { hostnameOps } from "../setup/hostname.ts";
import { initIdentityOps } from "../setup/identity.ts";
import { initLimitOps, limitOps } from "../setup/limits.ts";
import { mountOps } from "../setup/mounts.ts";
import { namespaceOps } from "../setup/namespaces.ts";
import { networkOps } from "../setup/network.ts";
import { initPrivilegeOps, privilegeOps } from "../setup/privileges.ts";
import { processOps } from "../setup/process.ts";
import { seccompOps } from "../setup/seccomp.ts";
import type { Spec } from "../spec/schema.ts";
import type { Op } from "./op.ts";

/** cpuCounter: the sandbox's cgroup CPU counter, when a CPU-time budget has one. */
export function compilePlan(spec: Spec, host: Host, cpuCounter: CpuCounter | null = null): Op[] {
  const ns = namespaceOps(spec, host);
  return [
    // spawn, then sandbox-wide (pid 1): the init's own limits first
    ...ns.slice(0, 1),
    ...initLimitOps(spec, cpuCounter),
    ...ns.slice(1),
    ...initIdentityOps(spec, host),
    ...mountOps(spec, host),
    ...hostnameOps(spec),
    ...networkOps(spec, host),
    ...initPrivilegeOps(spec, host),
    // the command's process
    ...processOps(spec, host),
    ...limitOps(spec),
    ...privilegeOps(spec, host),
    ...seccompOps(spec),
    ...execOps(spec, host),
  ];
}
