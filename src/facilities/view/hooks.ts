/**
 * The view's supervisor hooks: the scratch directories its overlays need
 * (src/facilities/view/scratch.ts), found before the clone and removed on
 * every path.
 */

import type { FacilityHooks } from "../../supervisor/hooks.ts";
import { removeScratch, type ScratchDir, scratchDirs } from "./scratch.ts";

export function viewHooks(): FacilityHooks {
  let scratch: ScratchDir[] = [];
  return {
    prepare(ctx) {
      scratch = scratchDirs(ctx.spec, ctx.shim);
    },
    cleanup(ctx) {
      removeScratch(ctx.shim, scratch);
      scratch = [];
      return undefined;
    },
  };
}
