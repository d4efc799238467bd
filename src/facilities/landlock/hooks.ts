/** Landlock's supervisor hook: its part of the report (what the plan's ruleset restricts, or why there is none). */

import type { FacilityHooks } from "../../supervisor/hooks.ts";
import { landlockReport } from "./ops.ts";

export function landlockHooks(): FacilityHooks {
  return {
    finish(ctx, result) {
      return { ...result, landlock: landlockReport(ctx.spec, ctx.host, ctx.ops) };
    },
  };
}
