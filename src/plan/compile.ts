/**
 * Spec + Host -> the ordered plan. Each facility contributes its ops; the
 * phase order is fixed here and checked again by the C decoder.
 */
import type { Host } from "../host/probe.ts";
import { execOps } from "../setup/exec.ts";
import { hostnameOps } from "../setup/hostname.ts";
import { initIdentityOps } from "../setup/identity.ts";
import { landlockOps } from "../setup/landlock.ts";
import { limitOps } from "../setup/limits.ts";
import { mountOps } from "../setup/mounts.ts";
import { namespaceOps } from "../setup/namespaces.ts";
import { networkOps } from "../setup/network.ts";
import { initPrivilegeOps, privilegeOps } from "../setup/privileges.ts";
import { processOps } from "../setup/process.ts";
import { seccompOps } from "../setup/seccomp.ts";
import type { Spec } from "../spec/schema.ts";
import type { Op } from "./op.ts";

export function compilePlan(spec: Spec, host: Host): Op[] {
  const namespaces = namespaceOps(spec, host);
  const identity = initIdentityOps(spec, host);
  const view = mountOps(spec, host);
  return [
    // spawn, then sandbox-wide (pid 1)
    ...namespaces,
    ...identity,
    ...view,
    ...hostnameOps(spec),
    ...networkOps(spec, host),
    ...initPrivilegeOps(spec, host),
    // the command's process
    ...processOps(spec, host),
    ...limitOps(spec),
    ...privilegeOps(spec, host),
    // needs no_new_privs (privilegeOps) and the final view; the seccomp filter comes last
    ...landlockOps(spec, host, view),
    ...seccompOps(spec),
    ...execOps(spec, host),
  ];
}
