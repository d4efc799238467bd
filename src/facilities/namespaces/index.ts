/** The namespaces facility: which namespaces are new (share and unshare are core Spec fields) and the ops that create them. */
import type { Facility } from "../facility.ts";
import { nsList } from "./describe.ts";
import { namespaceOps } from "./ops.ts";

export const namespaces = {
  name: "namespaces" as const,
  plan: ({ resolved }) => {
    const ops = namespaceOps(resolved);
    return { spawn: ops.slice(0, 1), unshare: ops.slice(1) };
  },
  describe: {
    clone: (o) => `clone with new namespaces: ${nsList(o.args.flags)}`,
    mountPrivate: () => "make every mount private",
    unshare: (o) => `unshare ${nsList(o.args.flags)}`,
  },
} satisfies Facility;
