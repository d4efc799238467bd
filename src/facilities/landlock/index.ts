/** The Landlock facility: its field, its ruleset (after no_new_privs; it reads the view's ops), its report. */
import type { Facility } from "../facility.ts";
import { LANDLOCK_FIELDS } from "./fields.ts";
import { landlockHooks } from "./hooks.ts";
import { describeLandlock, landlockOps } from "./ops.ts";

export const landlock = {
  name: "landlock" as const,
  fields: { entries: LANDLOCK_FIELDS, normalize: (p) => ({ landlock: p.landlock }) },
  plan: ({ resolved }) => ({ landlock: (slot) => landlockOps(resolved, slot("view")) }),
  hooks: landlockHooks,
  describe: { landlock: (o) => describeLandlock(o.args) },
} satisfies Facility<typeof LANDLOCK_FIELDS>;
