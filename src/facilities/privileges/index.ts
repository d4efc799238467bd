/**
 * The privileges facility: capabilities, identity fields, user namespace maps
 * and seccomp's field (the Hardening part of the Spec), and the ops that drop
 * privileges. Its ops are split at no_new_privs: Landlock's go right after it.
 */
import { IsolateError, field as specField } from "../../errors.ts";
import type { Facility } from "../facility.ts";
import { capList } from "./capabilities.ts";
import { describeInitCaps } from "./describe.ts";
import { HARDENING_FIELDS, normalizeHardening } from "./fields.ts";
import { initPrivilegeOps, privilegeOps } from "./ops.ts";

export const privileges = {
  name: "privileges" as const,
  fields: {
    entries: HARDENING_FIELDS,
    lead: true,
    normalize(p, { namespaces }) {
      const h = normalizeHardening(p as never, p.share.includes("user"));
      if (Array.isArray(h)) return h;
      if (h.needsUserNs) namespaces.user = true;
      if (h.hardening.userns === "host") {
        if (p.unshare.includes("user"))
          return [
            "userns",
            `${specField("userns", "host")} keeps the host's user namespace: drop ${specField("unshare", "user")}`,
          ];
        namespaces.user = false;
      }
      return h.hardening;
    },
  },
  plan: ({ resolved }) => {
    const ops = privilegeOps(resolved);
    const at = ops.findIndex((o) => o.op === "noNewPrivs") + 1;
    if (at === 0) throw new IsolateError("internal", "Landlock needs no_new_privs before it");
    return { initPrivileges: initPrivilegeOps(resolved), noNewPrivs: ops.slice(0, at), privileges: ops.slice(at) };
  },
  describe: {
    initCaps: describeInitCaps,
    noNewPrivs: () => "set no_new_privs",
    capBounding: (o) => `capability bounding set: keep ${capList(o.args.keep)}`,
    securebits: (o) => `lock securebits 0x${Number(o.args.bits).toString(16)} (no root privileges on exec)`,
    caps: (o) => `capabilities: keep ${capList(o.args.keep)}`,
  },
} satisfies Facility<typeof HARDENING_FIELDS>;
