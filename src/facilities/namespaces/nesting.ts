/**
 * --allow-nested: the command may build sandboxes of its own. The seccomp
 * profile lets namespace creation and the mount family through
 * (src/facilities/seccomp/profiles.ts) and /proc is left unmasked (src/facilities/view/ops.ts),
 * because the kernel lets a nested user namespace mount proc only where a
 * fully visible one exists. An unmasked /proc is safe only for a command that
 * is not host root: /proc/sys and /proc/sysrq-trigger check the uid, not a
 * capability, and a user namespace the command makes would own root's files.
 * So a command that would be host uid 0 is refused here.
 */

import type { Spec } from "../../config/schema.ts";
import { HostError } from "../../errors.ts";
import { type Host, ownIdMap } from "../../host/probe.ts";
import type { IdentityPlan } from "../identity/ops.ts";
import { CAP } from "../privileges/capabilities.ts";

/** The uid `id` of isolate's own namespace is in the initial one; undefined when unmapped. */
export function globalUid(id: number, host: Host): number | undefined {
  if (host.initialUserNs) return id;
  const l = ownIdMap("uid").find((x) => id >= x.inside && id < x.inside + x.count);
  return l === undefined ? undefined : l.outside + (id - l.inside);
}

/** `plan` and `kept`: the command's identity and capabilities, as resolved (src/plan/resolve.ts). */
export function checkNesting(spec: Spec, host: Host, plan: IdentityPlan, kept: bigint): void {
  if (!spec.allowNested) return;
  const uid = plan.hostUid;
  if (globalUid(uid, host) === 0) {
    throw new HostError(
      "--allow-nested: the command would run as host root (uid 0), and a sandbox it nests would own root's files and the kernel's sysctls",
      "run the command as another identity: --user UID (e.g. --user 65534), or --uid 0 --map-uid 0:UID:1 --map-gid 0:GID:1 with an unprivileged UID",
    );
  }
  // uid 0 without CAP_SETFCAP cannot map itself into a user namespace (Linux 5.12+): nothing could nest.
  const inside = plan.ids?.uid ?? host.uid;
  if (inside === 0 && !(kept & (1n << BigInt(CAP.SETFCAP)))) {
    throw new HostError(
      "--allow-nested: the command would be uid 0 without capabilities, and the kernel lets only a holder of CAP_SETFCAP map uid 0 into a user namespace: no sandbox could nest",
      "run the command as another uid inside: --uid 1000 (or --user UID)",
    );
  }
}
