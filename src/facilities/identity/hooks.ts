/**
 * Identity's supervisor hooks: while the init waits for GO, its user
 * namespace's maps are written (unless it joined one: named sandboxes, --join),
 * and a mapped root's bind mounts are made for it (they go with GO).
 */

import type { FacilityHooks } from "../../supervisor/hooks.ts";
import { CLONE_FLAG } from "../namespaces/ops.ts";
import { idMapsFor, idmappedMounts, writeIdMaps } from "./idmap.ts";

export function identityHooks(): FacilityHooks {
  return {
    beforeGo(ctx, child) {
      if (!ctx.fresh.includes("user")) return undefined;
      // A joined user namespace (named sandboxes, --join) has its maps already.
      const joined = ((ctx.options.join?.flags ?? 0) & CLONE_FLAG.user) !== 0;
      const mounts = async () => {
        ctx.goFds.push(...(await idmappedMounts(ctx.io, ctx.shim, child.pid, ctx.ops)));
      };
      if (joined) return mounts();
      return writeIdMaps(ctx.io, child.pid, idMapsFor(ctx.resolved)).then(mounts);
    },
  };
}
