/** The identity facility: who the command runs as, the user namespace's maps (written before GO), their ops. */
import type { Facility } from "../facility.ts";
import { gidList } from "../privileges/describe.ts";
import { identityHooks } from "./hooks.ts";
import { initIdentityOps } from "./ops.ts";

export const identity = {
  name: "identity" as const,
  plan: ({ resolved }) => ({ initIdentity: initIdentityOps(resolved) }),
  hooks: identityHooks,
  describe: {
    setGroups: (o) => `supplementary groups: ${gidList(o.args.gids)}`,
    initIds: (o) => `the init takes uid ${o.args.uid}, gid ${o.args.gid} in its user namespace`,
    setIds: (o) => `uid ${o.args.uid}, gid ${o.args.gid}`,
  },
} satisfies Facility;
