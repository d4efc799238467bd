/**
 * --allow-nested: the command may build sandboxes of its own. The seccomp
 * profile lets namespace creation and the mount family through
 * (src/facilities/seccomp/profiles.ts) and /proc is left unmasked (src/facilities/view/ops.ts),
 * because the kernel lets a nested user namespace mount proc only where a
 * fully visible one exists. An unmasked /proc is safe only for a command that
 * is not host root: /proc/sys and /proc/sysrq-trigger check the uid, not a
 * capability, and a user namespace the command makes would own root's files.
 * So a command that would be host uid 0 is refused here.
 *
 * Nor can uid 0 without CAP_SETFCAP nest: since Linux 5.12 only a holder of
 * CAP_SETFCAP may map uid 0 of a namespace into a child one (verify_root_map
 * in kernel/user_namespace.c: a root mapping lets file capabilities written
 * inside count for the parent's root), and without CAP_SETUID a process maps
 * no uid but its own. Root's command (mapped, the default) is therefore
 * nobody under --allow-nested unless --uid says otherwise (identity.ts); an
 * explicit uid 0 is refused here, up front.
 */

import type { Spec } from "../../config/schema.ts";
import { HostError, field as specField } from "../../errors.ts";
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
      `${specField("allowNested")}: the command would run as host root (uid 0), and a sandbox it nests would own root's files and the kernel's sysctls`,
      spec.userns === "host"
        ? `drop ${specField("userns", "host")} (root then runs mapped to an unprivileged range), or run the command as ${specField("user")} UID (e.g. ${specField("user", "65534")})`
        : host.initialUserNs
          ? `run the command as another identity: ${specField("user")} UID (e.g. ${specField("user", "65534")})`
          : `this user namespace maps its root to host root: run isolate on the host, where root runs mapped, or give the command a mapped uid other than 0 with ${specField("user")} UID`,
    );
  }
  // uid 0 without CAP_SETFCAP cannot map itself into a user namespace (Linux 5.12+): nothing could nest.
  const inside = plan.ids?.uid ?? host.uid;
  if (inside === 0 && !(kept & (1n << BigInt(CAP.SETFCAP)))) {
    const [why, fix] =
      spec.uid === 0
        ? [
            specField("uid", "0"),
            `drop ${specField("uid", "0")}: the command then runs as 65534; or give another uid, e.g. ${specField("uid", "1000")}`,
          ]
        : plan.ids
          ? [specField("mapUid"), `give the command another uid inside, e.g. ${specField("uid", "1000")}`]
          : [
              "it shares isolate's user namespace",
              `drop ${specField("share", "user")}: the command then runs as 65534`,
            ];
    throw new HostError(
      `${specField("allowNested")}: the command would be uid 0 without capabilities (${why}), and since Linux 5.12 only a holder of CAP_SETFCAP may map uid 0 into a new user namespace (kernel/user_namespace.c, verify_root_map): no sandbox could nest`,
      fix,
    );
  }
}
