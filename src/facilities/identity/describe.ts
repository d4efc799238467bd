/** The command's identity in words and data, for `isolate plan`. */

import type { Host } from "../../host/probe.ts";
import type { Resolved } from "../../plan/resolve.ts";
import type { IdRange } from "../privileges/fields.ts";
import { idmappedBinds, VIEW } from "../view/ops.ts";
import type { IdentityPlan } from "./ops.ts";

export interface IdentityReport {
  /** One line: who the command is, inside and on the host. */
  readonly summary: string;
  /** The maps of the new user namespace; undefined without one. */
  readonly maps: { readonly uid: readonly IdRange[]; readonly gid: readonly IdRange[] } | undefined;
  /** Host uid of the command. */
  readonly hostUid: number;
  /** Root mapped to an unprivileged range (src/facilities/identity/ops.ts). */
  readonly mappedRoot: boolean;
  /** Sources of the idmapped (writable) binds. */
  readonly idmapped: readonly string[];
}

function summary(plan: IdentityPlan, host: Host): string {
  const ids = plan.ids ?? { uid: host.uid, gid: host.gid };
  if (!plan.maps) {
    if (plan.hostUid === 0 && host.initialUserNs) return "uid 0 gid 0: host root (without capabilities)";
    return `host uid ${plan.hostUid}, gid ${ids.gid} (no new user namespace)`;
  }
  const how = plan.mappedRoot ? "root mapped to an unprivileged range; writable binds idmapped" : "new user namespace";
  return `uid ${ids.uid} gid ${ids.gid} inside, host uid ${plan.hostUid} (${how})`;
}

export function describeIdentity(r: Resolved): IdentityReport {
  const { host, identity: plan } = r;
  return {
    summary: summary(plan, host),
    maps: plan.maps ? { uid: plan.maps.uid, gid: plan.maps.gid } : undefined,
    hostUid: plan.hostUid,
    mappedRoot: plan.mappedRoot,
    idmapped: idmappedBinds(r.view?.head.concat(r.view.entries) ?? [])
      .filter((b) => (Number(b.args.flags) & VIEW.RO) === 0)
      .map((b) => b.args.src),
  };
}
