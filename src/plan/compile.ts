/**
 * Spec + Host -> the ordered plan. Each facility contributes its ops; the
 * phase order is fixed here and checked again by the C decoder.
 */
import type { Host } from "../host/probe.ts";
import { execOps } from "../setup/exec.ts";
import { hostnameOps } from "../setup/hostname.ts";
import { initIdentityOps } from "../setup/identity.ts";
import { limitOps } from "../setup/limits.ts";
import { mountOps } from "../setup/mounts.ts";
import { namespaceOps } from "../setup/namespaces.ts";
import { checkNesting } from "../setup/nesting.ts";
import { networkOps } from "../setup/network.ts";
import { initPrivilegeOps, privilegeOps } from "../setup/privileges.ts";
import { processOps } from "../setup/process.ts";
import { seccompOps } from "../setup/seccomp.ts";
import type { Spec } from "../spec/schema.ts";
import type { Op } from "./op.ts";

export function compilePlan(spec: Spec, host: Host): Op[] {
  checkNesting(spec, host);
  return [
    // spawn, then sandbox-wide (pid 1)
    ...namespaceOps(spec, host),
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
