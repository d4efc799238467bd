/** The limits: their fields, the init's and the command's limit ops, the cgroups' hooks, the cgroups in `isolate check`. */

import * as v from "valibot";
import type { Facility } from "../facility.ts";
import { checkLimits } from "./check.ts";
import { describeInitLimits, describeRlimit } from "./describe.ts";
import { LimitsInputSchema, normalizeLimits } from "./fields.ts";
import { limitsHooks } from "./hooks.ts";
import { initLimitOps, limitOps } from "./ops.ts";

const LIMITS_FIELDS = {
  /** Resource limits, rlimits and time limits (spellings in src/facilities/limits/fields.ts). */
  limits: v.optional(LimitsInputSchema),
} as const;

export const limits = {
  name: "limits" as const,
  fields: {
    entries: LIMITS_FIELDS,
    normalize(p) {
      const l = normalizeLimits(p.limits);
      return Array.isArray(l) ? l : { limits: l };
    },
  },
  plan: ({ resolved, cpuCounter }) => ({
    initLimits: initLimitOps(resolved.spec, cpuCounter),
    limits: limitOps(resolved.spec),
  }),
  hooks: limitsHooks,
  describe: { initLimits: describeInitLimits, rlimit: describeRlimit },
  check: checkLimits,
} satisfies Facility<typeof LIMITS_FIELDS>;
